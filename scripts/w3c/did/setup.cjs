// A jest setupFiles module for run.cjs: sets the systemSuiteConfig global the suites' *.spec.js
// read from the JSON file $CREDENCE_DID_SUITE_CONFIG. It is parsed here, inside the test
// environment, so its objects belong to the tests' realm: objects passed through jest's
// `globals` option (as the suite's services/runSuite.js does) come from the outer realm and
// fail jest-did-matcher's toBeInfraMap (`instanceof Object`).
'use strict';
global.systemSuiteConfig = JSON.parse(require('fs').readFileSync(process.env.CREDENCE_DID_SUITE_CONFIG, 'utf8'));

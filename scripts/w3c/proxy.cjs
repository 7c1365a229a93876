// HTTPS reverse proxy for scripts/w3c-vc-suite: 127.0.0.1:<any free port> (TLS, self-signed)
// -> Credence on plain http. The suite only sends an endpoint's configured headers (and
// unwraps {verifiableCredential} like a VC-API client) on its https code path, hence TLS.
// Sets "Authorization: Bearer <token>" itself (the current run's issuer tenant on
// /issuers/*, the verifier tenant on /credentials/verify and /presentations/verify), so
// code paths that drop configured headers authenticate too, and logs every exchange as one
// JSON line (see hooks.cjs, summarize.cjs).
// Environment: W3C_RUN (run.json written by the script, re-read per request: tokens and
// "log", the exchange log of the current run), W3C_UPSTREAM (Credence's host:port),
// W3C_CERT, W3C_KEY, W3C_PORT_FILE (the chosen port is written there).
'use strict';
const http = require('http');
const https = require('https');
const fs = require('fs');
const env = name => process.env[name] || (() => { throw new Error(name + ' is not set'); })();
const [host, port] = env('W3C_UPSTREAM').split(':');
const RUN = env('W3C_RUN');
let n = 0;
const handler = (req, res) => {
  const chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const headers = {...req.headers, host: host + ':' + port, 'content-length': body.length};
    const run = JSON.parse(fs.readFileSync(RUN, 'utf8'));
    if(req.url.startsWith('/issuers/')) headers.authorization = 'Bearer ' + run.issuerToken;
    if(req.url === '/credentials/verify' || req.url === '/presentations/verify')
      headers.authorization = 'Bearer ' + run.verifierToken;
    const up = http.request({host, port: +port, method: req.method, path: req.url, headers}, ures => {
      const rc = [];
      ures.on('data', c => rc.push(c));
      ures.on('end', () => {
        const rbody = Buffer.concat(rc);
        if(run.log) fs.appendFileSync(run.log, JSON.stringify({n: ++n, t: new Date().toISOString(),
          method: req.method, url: req.url, req: body.toString(),
          status: ures.statusCode, res: rbody.toString()}) + '\n');
        res.writeHead(ures.statusCode, ures.headers);
        res.end(rbody);
      });
    });
    up.on('error', e => { res.writeHead(502); res.end(String(e)); });
    up.end(body);
  });
};
const server = https.createServer({key: fs.readFileSync(env('W3C_KEY')),
  cert: fs.readFileSync(env('W3C_CERT'))}, handler);
server.listen(0, '127.0.0.1', () => fs.writeFileSync(env('W3C_PORT_FILE'), String(server.address().port)));

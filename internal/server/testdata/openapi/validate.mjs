// Checks OpenAPI documents with implementations independent of Credence.
//
//   node validate.mjs doc.json...
//
// validates each document: @readme/openapi-parser against the OpenAPI 3.1
// specification (its JSON Schema, resolvable $refs, and the rules the
// schema cannot say: path parameters declared and required, unique
// operationIds and parameters), and Ajv compiles every Schema Object the
// document holds as JSON Schema 2020-12 in strict mode (unknown keywords,
// misplaced constraints and unresolvable references are errors).
//
//   node validate.mjs --responses doc.json samples.json
//
// validates answers a server gave: samples.json is an array of {"what",
// "path", "method", "status", "media", "body"}, and each body must match the
// schema the document gives that operation's response and media type.
//
// It prints one JSON line per document (or one for the samples):
// {"file", "valid", "errors", "warnings", "schemas"} (schemas: how many
// Schema Objects were compiled), and exits 0; a crash exits non-zero.
import { readFile } from 'node:fs/promises';
import { validate, compileErrors } from '@readme/openapi-parser';
import Ajv2020 from 'ajv/dist/2020.js';

// The OpenAPI 3.1 base vocabulary adds these keywords to JSON Schema.
const oasKeywords = ['discriminator', 'xml', 'externalDocs', 'example'];
const root = 'urn:credence:openapi';

// schemaObjects returns every Schema Object by a name: the components'
// schemas by theirs, and the schema of every parameter, header and media
// type elsewhere by its location.
function schemaObjects(doc) {
  const out = { ...(doc.components?.schemas ?? {}) };
  const walk = (v, ptr) => {
    if (v === null || typeof v !== 'object' || ptr === '/components/schemas') return;
    for (const [k, x] of Object.entries(v)) {
      const p = `${ptr}/${k}`;
      if (k === 'schema' && x && typeof x === 'object') out[p] = x;
      else walk(x, p);
    }
  };
  walk(doc, '');
  return out;
}

// compile compiles each schema of defs under one root whose $defs hold them
// all, so "#/components/schemas/X" references (rewritten to "#/$defs/X")
// resolve; the root has no other keyword, so strict mode checks the Schema
// Objects alone. It returns a validator per name, or null and the errors.
function compile(defs) {
  defs = JSON.parse(JSON.stringify(defs), (k, v) =>
    k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/') ? '#/$defs/' + v.slice(21) : v);
  const ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: false });
  ajv.addVocabulary(oasKeywords);
  try {
    ajv.addSchema({ $id: root, $defs: defs });
  } catch (e) {
    return { validators: null, errors: [e.message] };
  }
  const validators = {};
  const errors = [];
  for (const name of Object.keys(defs)) {
    const ptr = name.replaceAll('~', '~0').replaceAll('/', '~1');
    try {
      validators[name] = ajv.getSchema(`${root}#/$defs/${encodeURIComponent(ptr)}`);
    } catch (e) {
      errors.push(`${name}: ${e.message}`);
    }
  }
  return { validators, errors, ajv };
}

async function checkDocument(file) {
  const text = await readFile(file, 'utf8');
  const result = await validate(JSON.parse(text), { validate: { errors: { colorize: false } } });
  const errors = result.valid ? [] : [compileErrors(result)];
  const defs = schemaObjects(JSON.parse(text));
  errors.push(...compile(defs).errors);
  const warnings = result.warnings.map((w) => w.message);
  return { file, valid: errors.length === 0, errors, warnings, schemas: Object.keys(defs).length };
}

// responseSchema finds the schema of a response: the operation's response
// for the status ($ref resolved), the content whose media type (without
// parameters) is media.
function responseSchema(doc, s) {
  let r = doc.paths?.[s.path]?.[s.method]?.responses?.[s.status];
  if (r?.$ref) r = doc.components?.responses?.[r.$ref.split('/').pop()];
  const key = Object.keys(r?.content ?? {}).find((m) => m.split(';')[0].trim() === s.media);
  return key === undefined ? undefined : r.content[key].schema;
}

async function checkResponses(docFile, samplesFile) {
  const doc = JSON.parse(await readFile(docFile, 'utf8'));
  const samples = JSON.parse(await readFile(samplesFile, 'utf8'));
  const defs = schemaObjects(doc);
  const errors = [];
  samples.forEach((s, i) => {
    const schema = responseSchema(doc, s);
    if (schema === undefined) errors.push(`${s.what}: no schema for ${s.status} ${s.media}`);
    else defs[`sample ${i}`] = schema;
  });
  const { validators, errors: compileErrors, ajv } = compile(defs);
  errors.push(...compileErrors);
  samples.forEach((s, i) => {
    const v = validators?.[`sample ${i}`];
    if (v && !v(s.body)) errors.push(`${s.what}: ${s.status} ${s.media}: ${ajv.errorsText(v.errors)}`);
  });
  return { file: samplesFile, valid: errors.length === 0, errors, warnings: [], schemas: samples.length };
}

const args = process.argv.slice(2);
if (args[0] === '--responses') {
  console.log(JSON.stringify(await checkResponses(args[1], args[2])));
} else {
  for (const file of args) console.log(JSON.stringify(await checkDocument(file)));
}

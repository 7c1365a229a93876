package healthcare

import _ "embed"

// ContextURL is where the healthcare JSON-LD context is published; the
// service serves the same bytes at /contexts/healthcare/v1. Credentials put
// it after https://www.w3.org/ns/credentials/v2 in their @context.
const ContextURL = "https://w3id.org/credence/healthcare/v1"

// Vocab is the namespace of the terms the context defines itself.
const Vocab = "https://w3id.org/credence/healthcare#"

// Context is the JSON-LD context document served at ContextURL. Callers
// must not modify it.
//
//go:embed contexts/healthcare-v1.jsonld
var Context []byte

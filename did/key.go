package did

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"fmt"
	"strings"

	"github.com/mr-tron/base58"
)

// Verification method representations of did:key (the publicKeyFormat option).
const (
	FormatMultikey       = TypeMultikey
	FormatJSONWebKey2020 = TypeJSONWebKey2020
	FormatEd25519v2018   = TypeEd25519v2018
	FormatEd25519v2020   = TypeEd25519v2020
	FormatP256Key2021    = TypeP256Key2021
)

// KeyMethod resolves did:key DIDs (W3C CCG did:key v0.7): the document is derived
// from the public key in the identifier; nothing is fetched.
type KeyMethod struct{}

// Resolve expands a did:key into its document.
func (KeyMethod) Resolve(_ context.Context, d DID, opts Options) (*Resolution, error) {
	if opts.VersionID != "" || opts.VersionTime != "" {
		return nil, fmt.Errorf("%w: did:key has no versions", ErrInvalidOptions)
	}
	doc, err := KeyDocument(d, opts.PublicKeyFormat, opts.EnableEncryptionKeyDerivation)
	if err != nil {
		return nil, err
	}
	return &Resolution{Document: doc, Metadata: ResolutionMetadata{ContentType: MediaDIDLDJSON}}, nil
}

// KeyDID returns the did:key of a public key.
func KeyDID(pub crypto.PublicKey) (DID, error) {
	mk, err := EncodeMultikey(pub)
	if err != nil {
		return DID{}, err
	}
	return DID{Method: "key", ID: mk}, nil
}

// KeyDocument builds the DID document of a did:key in the given representation
// (FormatMultikey when empty), optionally deriving key agreement methods.
func KeyDocument(d DID, format string, deriveEncryption bool) (*Document, error) {
	if d.Method != "key" {
		return nil, fmt.Errorf("%w: not a did:key: %s", ErrInvalidDID, d)
	}
	if strings.Contains(d.ID, ":") {
		return nil, fmt.Errorf("%w: did:key id must be a single multibase value", ErrInvalidDID)
	}
	pub, err := DecodeMultikey(d.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDID, err)
	}
	if format == "" {
		format = FormatMultikey
	}
	b := keyDocBuilder{did: d, format: format}
	if x, ok := pub.(*ecdh.PublicKey); ok {
		return b.keyAgreementOnly(x)
	}
	return b.build(pub, deriveEncryption)
}

type keyDocBuilder struct {
	did    DID
	format string
}

func (b keyDocBuilder) build(pub crypto.PublicKey, derive bool) (*Document, error) {
	vm, err := b.method(pub)
	if err != nil {
		return nil, err
	}
	ref := []Relationship{{Ref: vm.ID}}
	doc := &Document{
		Context: b.context(derive && isEd25519(pub)), ID: b.did.String(),
		VerificationMethod: []VerificationMethod{vm},
		AssertionMethod:    ref, Authentication: ref, CapabilityInvocation: ref, CapabilityDelegation: ref,
	}
	if !derive {
		return doc, nil
	}
	switch k := pub.(type) {
	case ed25519.PublicKey:
		x, err := X25519FromEd25519(k)
		if err != nil {
			return nil, err
		}
		ka, err := b.method(x)
		if err != nil {
			return nil, err
		}
		doc.VerificationMethod = append(doc.VerificationMethod, ka)
		doc.KeyAgreement = []Relationship{{Ref: ka.ID}}
	case *ecdsa.PublicKey:
		doc.KeyAgreement = ref
	}
	return doc, nil
}

func (b keyDocBuilder) keyAgreementOnly(x *ecdh.PublicKey) (*Document, error) {
	vm, err := b.method(x)
	if err != nil {
		return nil, err
	}
	ctx := Context{ContextDIDv1, ContextMultikey}
	switch b.format {
	case FormatJSONWebKey2020:
		ctx[1] = ContextJWS2020
	case FormatEd25519v2018:
		ctx[1] = ContextX25519v2019
	case FormatEd25519v2020:
		ctx[1] = ContextX25519v2020
	}
	return &Document{
		Context: ctx, ID: b.did.String(),
		VerificationMethod: []VerificationMethod{vm},
		KeyAgreement:       []Relationship{{Ref: vm.ID}},
	}, nil
}

func isEd25519(pub crypto.PublicKey) bool { _, ok := pub.(ed25519.PublicKey); return ok }

// context returns the document's @context for the representation; withX25519 adds
// the key agreement suite of the legacy Ed25519 representations.
func (b keyDocBuilder) context(withX25519 bool) Context {
	c := Context{ContextDIDv1}
	switch b.format {
	case FormatMultikey:
		c = append(c, ContextMultikey)
	case FormatJSONWebKey2020:
		c = append(c, ContextJWS2020)
	case FormatP256Key2021:
		c = append(c, ContextMultikey2021)
	case FormatEd25519v2018:
		c = append(c, ContextEd25519v2018)
		if withX25519 {
			c = append(c, ContextX25519v2019)
		}
	case FormatEd25519v2020:
		c = append(c, ContextEd25519v2020)
		if withX25519 {
			c = append(c, ContextX25519v2020)
		}
	}
	return c
}

// method builds the verification method of one key in the builder's format. The
// fragment is always the key's Multikey fingerprint.
func (b keyDocBuilder) method(pub crypto.PublicKey) (VerificationMethod, error) {
	fp, err := EncodeMultikey(pub)
	if err != nil {
		return VerificationMethod{}, err
	}
	vm := VerificationMethod{ID: b.did.String() + "#" + fp, Controller: b.did.String()}
	_, isX := pub.(*ecdh.PublicKey)
	switch b.format {
	case FormatMultikey:
		vm.Type, vm.PublicKeyMultibase = TypeMultikey, fp
	case FormatJSONWebKey2020:
		vm.Type = TypeJSONWebKey2020
		vm.PublicKeyJwk, err = NewJWK(pub)
	case FormatEd25519v2018, FormatEd25519v2020:
		err = b.legacyEd25519(&vm, pub, fp, isX)
	case FormatP256Key2021:
		err = b.p256Key2021(&vm, pub)
	default:
		err = fmt.Errorf("%w: unknown publicKeyFormat %q", ErrInvalidOptions, b.format)
	}
	return vm, err
}

func (b keyDocBuilder) legacyEd25519(vm *VerificationMethod, pub crypto.PublicKey, fp string, isX bool) error {
	var raw []byte
	switch k := pub.(type) {
	case ed25519.PublicKey:
		raw = k
	case *ecdh.PublicKey:
		raw = k.Bytes()
	default:
		return fmt.Errorf("%w: %s cannot carry a %T key", ErrUnsupportedPublicKeyType, b.format, pub)
	}
	if b.format == FormatEd25519v2018 {
		vm.Type = map[bool]string{false: TypeEd25519v2018, true: TypeX25519v2019}[isX]
		vm.PublicKeyBase58 = base58.Encode(raw)
		return nil
	}
	vm.Type = map[bool]string{false: TypeEd25519v2020, true: TypeX25519v2020}[isX]
	vm.PublicKeyMultibase = fp
	return nil
}

func (b keyDocBuilder) p256Key2021(vm *VerificationMethod, pub crypto.PublicKey) error {
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve.Params().Name != "P-256" {
		return fmt.Errorf("%w: %s carries only P-256 keys", ErrUnsupportedPublicKeyType, b.format)
	}
	_, raw, err := rawKey(k)
	if err != nil {
		return err
	}
	vm.Type, vm.PublicKeyBase58 = TypeP256Key2021, base58.Encode(raw)
	return nil
}

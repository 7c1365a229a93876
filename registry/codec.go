package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// MaxSeq is the largest sequence number an op may carry: the largest integer JCS
// (which writes numbers as IEEE 754 doubles) represents exactly, 2^53-1.
const MaxSeq = 1<<53 - 1

// TimeLayout is the only accepted form of Op.Time: RFC 3339, UTC ("Z"), seconds.
const TimeLayout = "2006-01-02T15:04:05Z"

// Decode parses an encoded op strictly and returns it with its canonical bytes
// (JCS of the whole op, proofs included), which OpHash hashes and the log stores.
//
// Rejected, as *RuleError: more than MaxOpBytes (ErrTooLarge); anything but one JSON
// object of the op format: invalid UTF-8, unknown members (names are matched
// exactly), duplicate member names at any depth (inside doc too), null or
// wrongly-typed members, explicitly empty optional members ("prev":"",
// "updateKeys":[] and the like: omit them), trailing data (ErrMalformed, naming the
// member); a "v" other than OpVersion, a time that is not TimeLayout, a seq outside
// 1..MaxSeq, a prev that is not 64 lowercase hex digits for seq > 1 or present for
// seq 1, a statuslist op whose subject is not a status list URL (see
// statuslist.go), a trust op whose subject is not an accreditation URN, an
// accreditation member that is not an object of Accreditation's members (see
// trust.go) (ErrMalformed); an unknown type (ErrUnsupportedType).
//
// Encodings of the same op that differ only in whitespace, member order or string
// escapes decode to identical ops with identical canonical bytes; the returned op's
// Doc and Accreditation are in canonical (JCS) form.
func Decode(raw []byte) (*Op, []byte, error) {
	if len(raw) > MaxOpBytes {
		return nil, nil, reject(ErrTooLarge, "%d bytes, max %d", len(raw), MaxOpBytes)
	}
	if !utf8.Valid(raw) {
		return nil, nil, reject(ErrMalformed, "not valid UTF-8")
	}
	if err := checkStrict(raw, opShape); err != nil {
		return nil, nil, reject(ErrMalformed, "%v", err)
	}
	// The walk above decodes strings the way encoding/json does, which silently
	// replaces ill-formed \u escapes (lone surrogates); JCS refuses them, and numbers
	// it cannot represent.
	if _, err := jcs.Transform(raw); err != nil {
		return nil, nil, reject(ErrMalformed, "not canonicalizable JSON: %v", err)
	}
	var op Op
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&op); err != nil {
		return nil, nil, reject(ErrMalformed, "%v", err)
	}
	if err := normalizeRaw(&op); err != nil {
		return nil, nil, err
	}
	if err := validateOp(&op); err != nil {
		return nil, nil, err
	}
	canonical, err := Canonical(&op)
	if err != nil {
		return nil, nil, reject(ErrMalformed, "canonicalize: %v", err)
	}
	return &op, canonical, nil
}

// normalizeRaw replaces the op's raw JSON members by their JCS form so that the
// decoded op does not depend on how they were formatted.
func normalizeRaw(op *Op) error {
	for _, m := range []struct {
		name string
		v    *json.RawMessage
	}{{"doc", &op.Doc}, {"accreditation", &op.Accreditation}} {
		if len(*m.v) == 0 {
			continue
		}
		c, err := jcs.Transform(*m.v)
		if err != nil {
			return reject(ErrMalformed, "member %s: %v", m.name, err)
		}
		*m.v = c
	}
	return nil
}

// Canonical returns the JCS (RFC 8785) form of the whole op, proofs included.
func Canonical(op *Op) ([]byte, error) {
	b, err := json.Marshal(op)
	if err != nil {
		return nil, err
	}
	return jcs.Transform(b)
}

// SigningInput returns the JCS form of the op without its proofs: the payload
// every proof signs.
func SigningInput(op *Op) ([]byte, error) {
	unsigned := *op
	unsigned.Proofs = nil
	return Canonical(&unsigned)
}

// OpHash is the lowercase hex SHA-256 of an op's canonical bytes: Leaf.Hash, and the
// prev of the subject's next op.
func OpHash(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// knownTypes are the operation types the format defines (Apply accepts a subset).
var knownTypes = map[OpType]bool{
	DIDCreate: true, DIDUpdate: true, DIDDeactivate: true, DIDRecover: true,
	StatusListCreate: true, StatusListUpdate: true, TrustAccredit: true, TrustWithdraw: true,
}

// validateOp checks the field rules that need no state. Decode and Apply both run it.
func validateOp(op *Op) error {
	if op.V != OpVersion {
		return reject(ErrMalformed, "v is %q, want %q", op.V, OpVersion)
	}
	if !knownTypes[op.Type] {
		return reject(ErrUnsupportedType, "type %q", op.Type)
	}
	if op.Subject == "" {
		return reject(ErrMalformed, "subject is empty")
	}
	if isStatusOp(op.Type) {
		if err := checkStatusListURL(op.Subject); err != nil {
			return err
		}
	}
	if isTrustOp(op.Type) {
		if err := checkAccreditationSubject(op.Subject); err != nil {
			return err
		}
	}
	if op.Seq < 1 || op.Seq > MaxSeq {
		return reject(ErrMalformed, "seq %d is outside 1..%d", op.Seq, uint64(MaxSeq))
	}
	switch {
	case op.Seq == 1 && op.Prev != "":
		return reject(ErrMalformed, "seq 1 has prev %q; the first op of a subject has no prev", op.Prev)
	case op.Seq > 1 && !isHashHex(op.Prev):
		return reject(ErrMalformed, "seq %d: prev %q is not 64 lowercase hex digits", op.Seq, op.Prev)
	}
	if _, err := parseTime(op.Time); err != nil {
		return reject(ErrMalformed, "time: %v", err)
	}
	return nil
}

func isHashHex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// parseTime parses an op time, accepting only TimeLayout (no offset but "Z", no
// fractional seconds, no lowercase "t"/"z", no leap second).
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil || t.Format(TimeLayout) != s {
		return time.Time{}, fmt.Errorf("%q is not RFC 3339 UTC with second precision (%s)", s, TimeLayout)
	}
	return t, nil
}

// A shape describes the JSON a member must hold, for the strict walk. A nil shape
// accepts any JSON value (nulls included), checked for duplicate members only.
type shape struct {
	kind      kind
	members   map[string]*shape // kObject: the only allowed member names
	required  []string          // kObject: members that must be present
	elem      *shape            // kArray: the element shape
	omitEmpty bool              // "" or [] is refused: the member must be omitted instead
	name      string            // how errors name a top-level value of this shape
}

type kind uint8

const (
	kAny     kind = iota // any value but null
	kString              // a string
	kUint                // an integer in 0..MaxSeq
	kObject              // an object with the listed members
	kFreeObj             // any object
	kArray               // an array of elem
)

func (k kind) String() string {
	return [...]string{"a value", "a string", "a non-negative integer", "an object", "an object", "an array"}[k]
}

var (
	strShape       = &shape{kind: kString}
	optStrShape    = &shape{kind: kString, omitEmpty: true}
	strListShape   = &shape{kind: kArray, elem: strShape, omitEmpty: true}
	uintListShape  = &shape{kind: kArray, elem: &shape{kind: kUint}, omitEmpty: true}
	proofShape     = &shape{kind: kObject, members: map[string]*shape{"kid": strShape, "jws": strShape}, required: []string{"kid", "jws"}}
	statusShape    = &shape{kind: kObject, members: map[string]*shape{"issuer": optStrShape, "purpose": strShape, "size": {kind: kUint}, "set": uintListShape, "clear": uintListShape, "listHash": strShape}, required: []string{"purpose", "size", "listHash"}}
	jwsHeaderShape = &shape{kind: kObject, members: map[string]*shape{"alg": strShape, "kid": strShape}, required: []string{"alg", "kid"}, name: "the header"}
	opShape        = &shape{kind: kObject, members: map[string]*shape{
		"v":             strShape,
		"type":          strShape,
		"subject":       strShape,
		"seq":           {kind: kUint},
		"prev":          optStrShape,
		"time":          strShape,
		"doc":           {kind: kFreeObj},
		"updateKeys":    strListShape,
		"recoveryKeys":  strListShape,
		"nextKeyHashes": strListShape,
		"statusList":    statusShape,
		"accreditation": accreditationShape,
		"proofs":        {kind: kArray, elem: proofShape, omitEmpty: true},
	}, required: []string{"v", "type", "subject", "seq", "time"}, name: "the op"}
)

// checkStrict walks raw token by token: exactly one JSON value of shape sh, no
// duplicate member names anywhere, nothing after it.
func checkStrict(raw []byte, sh *shape) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := (&walker{dec: dec, root: sh.name}).walk("", sh, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// walker reads one JSON value token by token; root names the value in errors.
type walker struct {
	dec  *json.Decoder
	root string
}

func member(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func (w *walker) where(path string) string {
	if path == "" {
		return w.root
	}
	return "member " + path
}

// maxDepth bounds the nesting of arrays and objects in an op.
const maxDepth = 32

func (w *walker) walk(path string, sh *shape, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%s: nested deeper than %d levels", w.where(path), maxDepth)
	}
	tok, err := w.dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("%s: %v", w.where(path), err)
	}
	if sh == nil {
		// Free-form JSON (inside doc): only duplicates matter.
		if d, ok := tok.(json.Delim); ok {
			return w.walkComposite(path, d, nil, depth)
		}
		return nil
	}
	wrongType := func(got string) error {
		return fmt.Errorf("%s is %s, want %s", w.where(path), got, sh.kind)
	}
	switch t := tok.(type) {
	case nil:
		return fmt.Errorf("%s is null", w.where(path))
	case bool:
		if sh.kind != kAny {
			return wrongType("a boolean")
		}
	case string:
		switch sh.kind {
		case kAny:
		case kString:
			if t == "" && sh.omitEmpty {
				return fmt.Errorf("%s is empty; omit it", w.where(path))
			}
		default:
			return wrongType("a string")
		}
	case json.Number:
		switch sh.kind {
		case kAny:
		case kUint:
			if err := checkUint(string(t)); err != nil {
				return fmt.Errorf("%s: %v", w.where(path), err)
			}
		default:
			return wrongType("a number")
		}
	case json.Delim:
		switch {
		case t == '{' && (sh.kind == kObject || sh.kind == kFreeObj || sh.kind == kAny):
		case t == '[' && (sh.kind == kArray || sh.kind == kAny):
		case t == '{':
			return wrongType("an object")
		default:
			return wrongType("an array")
		}
		return w.walkComposite(path, t, sh, depth)
	}
	return nil
}

// walkComposite walks the members or elements of an object or array whose opening
// delimiter was just read.
func (w *walker) walkComposite(path string, open json.Delim, sh *shape, depth int) error {
	if open == '[' {
		var elem *shape
		if sh != nil && sh.kind == kArray {
			elem = sh.elem
		}
		n := 0
		for ; w.dec.More(); n++ {
			if err := w.walk(fmt.Sprintf("%s[%d]", path, n), elem, depth+1); err != nil {
				return err
			}
		}
		if n == 0 && sh != nil && sh.omitEmpty {
			return fmt.Errorf("%s is an empty array; omit it", w.where(path))
		}
		_, err := w.dec.Token() // ']'
		return err
	}
	seen := make(map[string]bool)
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return fmt.Errorf("%s: %v", w.where(path), err)
		}
		name, _ := tok.(string)
		if seen[name] {
			return fmt.Errorf("duplicate member %q in %s", name, w.where(path))
		}
		seen[name] = true
		var sub *shape
		if sh != nil && sh.kind == kObject {
			s, ok := sh.members[name]
			if !ok {
				return fmt.Errorf("unknown member %q in %s", name, w.where(path))
			}
			sub = s
		}
		if err := w.walk(member(path, name), sub, depth+1); err != nil {
			return err
		}
	}
	if sh != nil && sh.kind == kObject {
		for _, r := range sh.required {
			if !seen[r] {
				return fmt.Errorf("member %s is missing", member(path, r))
			}
		}
	}
	_, err := w.dec.Token() // '}'
	return err
}

// checkUint accepts a JSON integer literal (no sign, fraction or exponent) of at
// most MaxSeq, so that it survives JCS (IEEE 754 doubles) unchanged.
func checkUint(lit string) error {
	if lit == "" || (len(lit) > 1 && lit[0] == '0') {
		return fmt.Errorf("%s is not a non-negative integer", lit)
	}
	for i := 0; i < len(lit); i++ {
		if lit[i] < '0' || lit[i] > '9' {
			return fmt.Errorf("%s is not a non-negative integer", lit)
		}
	}
	if n, err := strconv.ParseUint(lit, 10, 64); err != nil || n > MaxSeq {
		return fmt.Errorf("%s is out of range (at most %d)", lit, uint64(MaxSeq))
	}
	return nil
}

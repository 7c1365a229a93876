package status

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/credence/credence/vc"
)

// ListCredential is a BitstringStatusListCredential as read by
// ParseListCredential, or as an issuer describes it to Credential.
type ListCredential struct {
	// ID is the credential's id, the URL entries name in
	// statusListCredential.
	ID string
	// Issuer is the issuer's id.
	Issuer string
	// Purpose is the first of Purposes (the only one, usually).
	Purpose string
	// Purposes are credentialSubject.statusPurpose: one or more strings.
	// When empty, Purpose alone is meant.
	Purposes []string
	// List is the decoded encodedList.
	List *List
	// ValidFrom and ValidUntil are the validity period (validFrom and
	// validUntil, or issuanceDate and expirationDate in VC 1.1); zero when
	// absent.
	ValidFrom, ValidUntil time.Time
	// TTL is credentialSubject.ttl (milliseconds in JSON); 0 when absent.
	TTL time.Duration
	// StatusSize is credentialSubject.statusSize when stated, else 0.
	StatusSize int
}

// purposes returns Purposes, or Purpose alone.
func (lc *ListCredential) purposes() []string {
	if len(lc.Purposes) > 0 {
		return lc.Purposes
	}
	if lc.Purpose != "" {
		return []string{lc.Purpose}
	}
	return nil
}

// HasPurpose reports whether the list serves purpose.
func (lc *ListCredential) HasPurpose(purpose string) bool {
	return slices.Contains(lc.purposes(), purpose)
}

// ValidAt reports whether t is within the validity period.
func (lc *ListCredential) ValidAt(t time.Time) bool {
	if !lc.ValidFrom.IsZero() && t.Before(lc.ValidFrom) {
		return false
	}
	return lc.ValidUntil.IsZero() || !t.After(lc.ValidUntil)
}

// NewListCredential returns the unsigned VC 2.0 BitstringStatusListCredential
// publishing l at id for one purpose: @context [credentials/v2], id, type
// [VerifiableCredential, BitstringStatusListCredential], issuer, validFrom
// (omitted when zero) and credentialSubject {id: id+"#list", type:
// BitstringStatusList, statusPurpose, encodedList}. ListCredential.Credential
// adds validUntil, ttl, statusSize and several purposes.
func NewListCredential(id, issuer, purpose string, l *List, validFrom time.Time) (vc.Credential, error) {
	lc := ListCredential{ID: id, Issuer: issuer, Purpose: purpose, List: l, ValidFrom: validFrom}
	return lc.Credential()
}

// Credential returns lc as an unsigned VC 2.0 BitstringStatusListCredential
// (see NewListCredential); validUntil, credentialSubject.ttl (whole
// milliseconds) and credentialSubject.statusSize (when above 1) are written
// when set. Dates are written in UTC to the second.
func (lc *ListCredential) Credential() (vc.Credential, error) {
	var p problems
	if !vc.IsURL(lc.ID) {
		p.add("/id", "must be a URL")
	}
	if !vc.IsURL(lc.Issuer) {
		p.add("/issuer", "must be a URL")
	}
	purposes := lc.purposes()
	if len(purposes) == 0 {
		p.add("/credentialSubject/statusPurpose", "is required")
	}
	for _, s := range purposes {
		if s == "" {
			p.add("/credentialSubject/statusPurpose", "must be non-empty strings")
		}
	}
	if lc.List == nil {
		p.add("/credentialSubject/encodedList", "no list")
	} else if err := checkLen(len(lc.List.b), MinBits); err != nil {
		p.add("/credentialSubject/encodedList", "%v", err)
	}
	if lc.StatusSize < 0 || lc.StatusSize > MaxStatusSize {
		p.add("/credentialSubject/statusSize", "must be from 1 to %d", MaxStatusSize)
	}
	if lc.TTL < 0 {
		p.add("/credentialSubject/ttl", "must not be negative")
	}
	if !lc.ValidFrom.IsZero() && !lc.ValidUntil.IsZero() && lc.ValidUntil.Before(lc.ValidFrom) {
		p.add("/validUntil", "is before validFrom")
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	encoded, err := lc.List.Encode()
	if err != nil {
		return nil, err
	}
	subject := map[string]any{
		"id":          lc.ID + "#list",
		"type":        TypeList,
		"encodedList": encoded,
	}
	if len(purposes) == 1 {
		subject["statusPurpose"] = purposes[0]
	} else {
		arr := make([]any, len(purposes))
		for i, s := range purposes {
			arr[i] = s
		}
		subject["statusPurpose"] = arr
	}
	if lc.TTL > 0 {
		subject["ttl"] = lc.TTL.Milliseconds()
	}
	if lc.StatusSize > 1 {
		subject["statusSize"] = lc.StatusSize
	}
	c := vc.Credential{
		"@context":          []any{vc.ContextV2},
		"id":                lc.ID,
		"type":              []any{vc.TypeCredential, TypeListCredential},
		"issuer":            lc.Issuer,
		"credentialSubject": subject,
	}
	if !lc.ValidFrom.IsZero() {
		c["validFrom"] = lc.ValidFrom.UTC().Format(time.RFC3339)
	}
	if !lc.ValidUntil.IsZero() {
		c["validUntil"] = lc.ValidUntil.UTC().Format(time.RFC3339)
	}
	return c, nil
}

// ParseListCredential reads a BitstringStatusListCredential (VC 2.0, or VC
// 1.1 with issuanceDate and expirationDate): its type must include
// BitstringStatusListCredential, it must have one credentialSubject of type
// BitstringStatusList with a statusPurpose (one or more non-empty strings)
// and an encodedList that Decode accepts; ttl and statusSize are optional
// integers. Every problem is reported at once in a *vc.InvalidError; a short
// list's error also wraps ErrListTooShort. It checks no proof and does not
// run vc.Credential.Validate: callers verify the credential first.
func ParseListCredential(c vc.Credential) (*ListCredential, error) {
	var p problems
	var causes []error
	lc := &ListCredential{ID: c.ID(), Issuer: c.Issuer()}
	if !c.HasType(TypeListCredential) {
		p.add("/type", "must include %s", TypeListCredential)
	}
	from, until := "validFrom", "validUntil"
	if c.Version() == vc.V1 {
		from, until = "issuanceDate", "expirationDate"
	}
	lc.ValidFrom = date(&p, c, from)
	lc.ValidUntil = date(&p, c, until)

	field, subject := listSubject(&p, c["credentialSubject"])
	if subject == nil {
		return nil, p.err()
	}
	if !hasString(subject["type"], TypeList) {
		p.add(field+"/type", "must be %s", TypeList)
	}
	switch t := subject["statusPurpose"].(type) {
	case string:
		lc.Purposes = []string{t}
	case []any:
		for _, e := range t {
			s, _ := e.(string)
			lc.Purposes = append(lc.Purposes, s)
		}
	}
	if len(lc.Purposes) == 0 || slices.Contains(lc.Purposes, "") {
		p.add(field+"/statusPurpose", "must be one or more non-empty strings")
	} else {
		lc.Purpose = lc.Purposes[0]
	}
	if s, ok := subject["encodedList"].(string); !ok {
		p.add(field+"/encodedList", "must be a string")
	} else if l, err := Decode(s); err != nil {
		p.add(field+"/encodedList", "%v", err)
		causes = append(causes, err)
	} else {
		lc.List = l
	}
	if v, ok := subject["ttl"]; ok {
		n, isInt := integer(v)
		if !isInt || n < 0 || n > math.MaxInt64/int64(time.Millisecond) {
			p.add(field+"/ttl", "must be a non-negative integer (milliseconds)")
		} else {
			lc.TTL = time.Duration(n) * time.Millisecond
		}
	}
	if v, ok := subject["statusSize"]; ok {
		n, isInt := integer(v)
		switch {
		case !isInt || n < 1:
			p.add(field+"/statusSize", "must be an integer greater than zero")
		case n > MaxStatusSize:
			p.add(field+"/statusSize", "statusSize above %d is not supported", MaxStatusSize)
		default:
			lc.StatusSize = int(n)
		}
	}
	if err := p.err(causes...); err != nil {
		return nil, err
	}
	return lc, nil
}

func date(p *problems, c vc.Credential, name string) time.Time {
	v, ok := c[name]
	if !ok {
		return time.Time{}
	}
	s, _ := v.(string)
	t, err := vc.ParseDateTime(s)
	if err != nil {
		p.add("/"+name, "must be an XML Schema dateTimeStamp")
	}
	return t
}

// listSubject is the one credentialSubject object (an object, or an array
// of one).
func listSubject(p *problems, v any) (string, map[string]any) {
	switch t := v.(type) {
	case map[string]any:
		return "/credentialSubject", t
	case []any:
		if len(t) == 1 {
			if m, ok := t[0].(map[string]any); ok {
				return "/credentialSubject/0", m
			}
		}
	}
	p.add("/credentialSubject", "must be one %s object", TypeList)
	return "", nil
}

// Result is the outcome of the specification's validate algorithm (§3.2) for
// one entry.
type Result struct {
	// Purpose is the entry's statusPurpose.
	Purpose string
	// Status is the entry's value in the list (0 or 1 for statusSize 1).
	Status uint64
	// Valid is Status == 0.
	Valid bool
	// Message is the entry's statusMessage for Status; without
	// statusMessage, "set" or "unset" for statusSize 1.
	Message string
}

// Evaluate reads entry e in lc (whose proof and validity the caller has
// checked): lc.ID must be e.ListCredential and e.Purpose one of lc's
// purposes, and a statusSize stated by lc must be e's (else ErrMismatch);
// the list must hold MinBits entries of e's size (else ErrListTooShort) and
// e.Index must be one of them (else ErrIndexRange).
func Evaluate(e Entry, lc *ListCredential) (Result, error) {
	if lc == nil || lc.List == nil {
		return Result{}, errors.New("status: no status list credential")
	}
	if e.ListCredential != lc.ID {
		return Result{}, fmt.Errorf("%w: the entry names %q, the list credential is %q", ErrMismatch, e.ListCredential, lc.ID)
	}
	if !lc.HasPurpose(e.Purpose) {
		return Result{}, fmt.Errorf("%w: statusPurpose %q is not among the list's %q", ErrMismatch, e.Purpose, lc.purposes())
	}
	size := e.StatusSize()
	if size < 1 || size > MaxStatusSize {
		return Result{}, fmt.Errorf("%w: statusSize %d is not from 1 to %d", vc.ErrMalformed, size, MaxStatusSize)
	}
	if lc.StatusSize != 0 && lc.StatusSize != size {
		return Result{}, fmt.Errorf("%w: statusSize %d, the list's is %d", ErrMismatch, size, lc.StatusSize)
	}
	if n := lc.List.Len() / size; n < MinBits {
		return Result{}, fmt.Errorf("%w: %d entries of %d bits, the minimum is %d", ErrListTooShort, n, size, MinBits)
	}
	v, err := lc.List.GetValue(e.Index, size)
	if err != nil {
		return Result{}, err
	}
	return Result{Purpose: e.Purpose, Status: v, Valid: v == 0, Message: message(e, v)}, nil
}

// Check reports whether e's status is set in lc (its value is not 0), with
// the conditions of Evaluate.
func Check(e Entry, lc *ListCredential) (bool, error) {
	r, err := Evaluate(e, lc)
	return !r.Valid && err == nil, err
}

func message(e Entry, v uint64) string {
	for _, m := range e.Messages {
		if m.Status == v {
			return m.Message
		}
	}
	if len(e.Messages) == 0 && e.StatusSize() == 1 {
		if v == 0 {
			return "unset"
		}
		return "set"
	}
	return ""
}

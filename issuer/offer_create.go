package issuer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/credence/credence/vc/secure"
)

// OfferInput makes an offer: the credential as VC-API's issue takes it,
// without credentialSubject.id (the holder's DID is bound when the offer is
// claimed); options.format is di (default), jwt or sd-jwt.
type OfferInput struct {
	Credential map[string]any `json:"credential"`
	Options    IssueOptions   `json:"options"`
	// TxCode, when set, requires a transaction code in the token request.
	TxCode *TxCodeInput `json:"txCode,omitempty"`
	// ExpiresIn is the offer's lifetime in seconds (default 600, 60 to 86400).
	ExpiresIn int `json:"expiresIn,omitempty"`
}

// TxCodeInput is a transaction code (a PIN the issuer gives the holder out
// of band): Value, 6 to 12 digits, or one of Length digits generated.
type TxCodeInput struct {
	Value  string `json:"value,omitempty"`
	Length int    `json:"length,omitempty"`
	// Description tells the holder where the code comes from (at most 300
	// characters); wallets show it.
	Description string `json:"description,omitempty"`
}

// CredentialOffer is the Credential Offer object (OpenID4VCI §4.1.1).
type CredentialOffer struct {
	CredentialIssuer string                        `json:"credential_issuer"`
	ConfigurationIDs []string                      `json:"credential_configuration_ids"`
	Grants           map[string]PreAuthorizedGrant `json:"grants"`
}

// PreAuthorizedGrant is the grant of a pre-authorized code offer.
type PreAuthorizedGrant struct {
	Code   string  `json:"pre-authorized_code"`
	TxCode *TxCode `json:"tx_code,omitempty"`
}

// TxCode describes the transaction code a token request needs.
type TxCode struct {
	InputMode   string `json:"input_mode,omitempty"`
	Length      int    `json:"length,omitempty"`
	Description string `json:"description,omitempty"`
}

// CreatedOffer is a new offer. TxCode is shown here once, for the issuer to
// send to the holder on another channel.
type CreatedOffer struct {
	ID       string          `json:"id"`
	Offer    CredentialOffer `json:"credential_offer"`
	OfferURI string          `json:"credential_offer_uri"`
	// OfferURL invokes a wallet with the offer by reference.
	OfferURL string    `json:"offer_url"`
	Expires  time.Time `json:"expires"`
	TxCode   string    `json:"txCode,omitempty"`
}

// Create makes an offer for a tenant. The template is checked as Issue
// would check it (with a placeholder subject id), so an offer that could
// never be claimed is refused now (*Rejection).
func (o *Offers) Create(ctx context.Context, tenantID string, in OfferInput) (*CreatedOffer, error) {
	t, err := o.svc.Tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	now := o.svc.now().UTC().Truncate(time.Second)
	ttl, tx, format, err := checkOfferInput(&in)
	if err != nil {
		return nil, err
	}
	typ, err := o.svc.checkTemplate(ctx, t, IssueRequest{Credential: in.Credential, Options: in.Options}, format, now)
	if err != nil {
		return nil, err
	}
	ref := randomString()
	code := codeOf(ref)
	rec := offerRecord{V: offerVersion, ID: offerID(code), Tenant: t.ID, Config: configID(typ, format), Format: string(format),
		State: stateOffered, Created: now, Expires: now.Add(ttl)}
	if tx != nil {
		rec.TxHash, rec.TxLength, rec.TxDescription = txHash(code, tx.Value), len(tx.Value), tx.Description
	}
	if rec.Sealed, err = sealTemplate(code, rec.ID, IssueRequest{Credential: in.Credential, Options: in.Options}); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(rec)
	if err := o.svc.kv.Create(ctx, bucketOffers, rec.ID, b); err != nil {
		return nil, fmt.Errorf("failed to store the offer: %w", err)
	}
	uri := o.IssuerURL(t.ID) + PathOffer + "?ref=" + ref
	out := &CreatedOffer{ID: rec.ID, Offer: o.offerOf(rec, code), OfferURI: uri,
		OfferURL: OfferScheme + "?credential_offer_uri=" + url.QueryEscape(uri), Expires: rec.Expires}
	if tx != nil {
		out.TxCode = tx.Value
	}
	return out, nil
}

// checkOfferInput validates the offer's options and makes a transaction
// code when one is asked for without a value.
func checkOfferInput(in *OfferInput) (time.Duration, *TxCodeInput, secure.Format, error) {
	var p fields
	ttl := DefaultOfferTTL
	if in.ExpiresIn != 0 {
		ttl = time.Duration(in.ExpiresIn) * time.Second
		if ttl < MinOfferTTL || ttl > MaxOfferTTL {
			p.add("/expiresIn", fmt.Sprintf("seconds, from %d to %d", int(MinOfferTTL.Seconds()), int(MaxOfferTTL.Seconds())))
		}
	}
	format, err := secure.ParseFormat(in.Options.Format)
	if err != nil || (format != secure.DataIntegrity && format != secure.JWT && format != secure.SDJWT) {
		p.add("/options/format", "an offer is di (ldp_vc), jwt (jwt_vc_json) or sd-jwt (dc+sd-jwt)")
	}
	tx := in.TxCode
	if tx != nil {
		tx = &TxCodeInput{Value: tx.Value, Length: tx.Length, Description: tx.Description}
		checkTxCode(&p, tx)
	}
	if len(p) > 0 {
		return 0, nil, "", &Rejection{Malformed: true, Fields: p}
	}
	return ttl, tx, format, nil
}

func checkTxCode(p *fields, tx *TxCodeInput) {
	digits := func(s string) bool { return strings.Trim(s, "0123456789") == "" }
	switch {
	case tx.Value != "" && (len(tx.Value) < 6 || len(tx.Value) > 12 || !digits(tx.Value)):
		p.add("/txCode/value", "6 to 12 digits")
	case tx.Value != "" && tx.Length != 0 && tx.Length != len(tx.Value):
		p.add("/txCode/length", "differs from the value's length")
	case tx.Value == "" && tx.Length == 0:
		tx.Value = randomDigits(6)
	case tx.Value == "" && (tx.Length < 6 || tx.Length > 12):
		p.add("/txCode/length", "6 to 12")
	case tx.Value == "":
		tx.Value = randomDigits(tx.Length)
	}
	if utf8.RuneCountInString(tx.Description) > 300 || !utf8.ValidString(tx.Description) {
		p.add("/txCode/description", "at most 300 characters")
	}
}

// offerOf rebuilds the Credential Offer object of a record.
func (o *Offers) offerOf(rec offerRecord, code string) CredentialOffer {
	g := PreAuthorizedGrant{Code: code}
	if rec.TxHash != "" {
		g.TxCode = &TxCode{InputMode: "numeric", Length: rec.TxLength, Description: rec.TxDescription}
	}
	return CredentialOffer{CredentialIssuer: o.IssuerURL(rec.Tenant), ConfigurationIDs: []string{rec.Config},
		Grants: map[string]PreAuthorizedGrant{GrantPreAuthorized: g}}
}

// Offer reads an offer by the reference of its credential_offer_uri:
// ErrNotFound for none, ErrOfferGone once it expired or its code was used.
func (o *Offers) Offer(ctx context.Context, tenantID, ref string) (CredentialOffer, error) {
	if !validSecret(ref) {
		return CredentialOffer{}, fmt.Errorf("%w: credential offer", ErrNotFound)
	}
	code := codeOf(ref)
	rec, err := o.load(ctx, offerID(code))
	if err != nil || rec.Tenant != tenantID {
		return CredentialOffer{}, fmt.Errorf("%w: credential offer", ErrNotFound)
	}
	if rec.State != stateOffered || !o.svc.now().Before(rec.Expires) {
		return CredentialOffer{}, ErrOfferGone
	}
	return o.offerOf(rec, code), nil
}

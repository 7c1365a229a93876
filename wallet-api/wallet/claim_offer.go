package wallet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/credence/credence/vc"
)

// credentialOffer is the Credential Offer object.
type credentialOffer struct {
	Issuer  string                     `json:"credential_issuer"`
	Configs []string                   `json:"credential_configuration_ids"`
	Grants  map[string]json.RawMessage `json:"grants"`
}

type preAuthGrant struct {
	Code   string `json:"pre-authorized_code"`
	TxCode *struct {
		InputMode string `json:"input_mode"`
		Length    int    `json:"length"`
	} `json:"tx_code"`
	AuthServer string `json:"authorization_server"`
}

// readOffer parses the offer, fetching it by reference if need be.
func (cl *claim) readOffer(ctx context.Context, req ClaimRequest) error {
	raw := bytes.TrimSpace(req.Offer)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("%w: %w", ErrOffer, err)
		}
		body, err := cl.offerOfURL(ctx, strings.TrimSpace(s))
		if err != nil {
			return err
		}
		raw = body
	}
	if len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("%w: give the offer URL or the credential offer object", ErrOffer)
	}
	if _, err := vc.DecodeObject(raw); err != nil {
		return fmt.Errorf("%w: %w", ErrOffer, err)
	}
	if err := json.Unmarshal(raw, &cl.offer); err != nil {
		return fmt.Errorf("%w: %w", ErrOffer, err)
	}
	return cl.checkOffer(req.TxCode)
}

// offerOfURL reads an offer URL: credential_offer by value,
// credential_offer_uri by reference, or the URI itself.
func (cl *claim) offerOfURL(ctx context.Context, s string) ([]byte, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("%w: the offer is not a URL", ErrOffer)
	}
	q := u.Query()
	byValue, byRef := q.Get("credential_offer"), q.Get("credential_offer_uri")
	switch {
	case byValue != "" && byRef != "":
		return nil, fmt.Errorf("%w: credential_offer and credential_offer_uri are exclusive", ErrOffer)
	case byValue != "":
		return []byte(byValue), nil
	case byRef != "":
		s = byRef
	case u.Scheme == offerScheme:
		return nil, fmt.Errorf("%w: the offer URL has neither credential_offer nor credential_offer_uri", ErrOffer)
	}
	if err := cl.c.checkURL(s); err != nil {
		return nil, fmt.Errorf("%w: credential_offer_uri: %w", ErrOffer, err)
	}
	b, err := cl.c.do(ctx, call{method: http.MethodGet, endpoint: "credential offer", url: s, limit: maxOfferBytes})
	var ie *IssuerError
	if errors.As(err, &ie) && (ie.Status == http.StatusNotFound || ie.Status == http.StatusGone) {
		return nil, fmt.Errorf("%w: the issuer no longer has this offer (HTTP %d: expired, used or unknown)", ErrOffer, ie.Status)
	}
	return b, err
}

func (cl *claim) checkOffer(txCode string) error {
	o := cl.offer
	if err := cl.c.checkURL(o.Issuer); err != nil {
		return fmt.Errorf("%w: credential_issuer: %w", ErrOffer, err)
	}
	if len(o.Configs) == 0 || len(o.Configs) > 16 || slices.Contains(o.Configs, "") {
		return fmt.Errorf("%w: credential_configuration_ids must list 1 to 16 configurations", ErrOffer)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(o.Configs)))) != len(o.Configs) {
		return fmt.Errorf("%w: credential_configuration_ids repeats an id", ErrOffer)
	}
	g, ok := o.Grants[grantPreAuthorized]
	if !ok {
		return fmt.Errorf("%w: the offer has no pre-authorized_code grant (the authorization code flow is not supported)", ErrOffer)
	}
	if err := json.Unmarshal(g, &cl.grant); err != nil || cl.grant.Code == "" {
		return fmt.Errorf("%w: the pre-authorized_code grant has no code", ErrOffer)
	}
	tx := cl.grant.TxCode
	switch {
	case tx == nil:
	case txCode == "":
		return fmt.Errorf("%w: this offer needs the transaction code the issuer sent you (txCode)", ErrOffer)
	case tx.Length > 0 && len(txCode) != tx.Length:
		return fmt.Errorf("%w: the transaction code has %d characters", ErrOffer, tx.Length)
	case (tx.InputMode == "" || tx.InputMode == "numeric") && strings.Trim(txCode, "0123456789") != "":
		return fmt.Errorf("%w: the transaction code is digits only", ErrOffer)
	}
	return nil
}

package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/credence/credence/internal/kv"
)

const (
	bucketOffers  = "oid4vci-offers"
	bucketNonces  = "oid4vci-nonces"
	bucketOID4VCI = "oid4vci"
	offerVersion  = 1
)

// Offer states.
const (
	stateOffered  = "offered"
	stateToken    = "token"
	stateIssuing  = "issuing"
	stateRedeemed = "redeemed"
	stateBurned   = "burned"
	stateExpired  = "expired" // reported, never stored
)

// offerRecord is an offer as the store keeps it.
type offerRecord struct {
	V             int       `json:"v"`
	ID            string    `json:"id"`
	Tenant        string    `json:"tenant"`
	Config        string    `json:"config"`
	Format        string    `json:"format"`
	Sealed        []byte    `json:"sealed,omitempty"` // the template, sealed
	TxHash        string    `json:"txHash,omitempty"`
	TxLength      int       `json:"txLength,omitempty"`
	TxDescription string    `json:"txDescription,omitempty"`
	Attempts      int       `json:"attempts,omitempty"`
	State         string    `json:"state"`
	Created       time.Time `json:"created"`
	Expires       time.Time `json:"expires"`
	TokenHash     string    `json:"tokenHash,omitempty"`
	TokenExpires  time.Time `json:"tokenExpires,omitzero"`
	CredentialID  string    `json:"credentialId,omitempty"`
	Redeemed      time.Time `json:"redeemed,omitzero"`
}

// OfferStatus is what the issuer sees of an offer.
type OfferStatus struct {
	ID              string `json:"id"`
	ConfigurationID string `json:"credential_configuration_id"`
	Format          string `json:"format"`
	// State: offered, token (the code was exchanged), issuing, redeemed,
	// burned (too many wrong transaction codes) or expired.
	State        string    `json:"state"`
	TxCode       bool      `json:"txCode"`
	Attempts     int       `json:"failedTxCodeAttempts"`
	Created      time.Time `json:"created"`
	Expires      time.Time `json:"expires"`
	CredentialID string    `json:"credentialId,omitempty"`
	Redeemed     time.Time `json:"redeemed,omitzero"`
}

// Status reports an offer of a tenant by its id: ErrNotFound for none, and
// for an offer Sweep deleted, OfferRetention after it ended.
func (o *Offers) Status(ctx context.Context, tenantID, id string) (OfferStatus, error) {
	rec, err := o.load(ctx, id)
	if err != nil || rec.Tenant != tenantID {
		return OfferStatus{}, fmt.Errorf("%w: offer %q of issuer %s", ErrNotFound, id, tenantID)
	}
	st := OfferStatus{ID: rec.ID, ConfigurationID: rec.Config, Format: rec.Format, State: rec.State, TxCode: rec.TxHash != "",
		Attempts: rec.Attempts, Created: rec.Created, Expires: rec.Expires, CredentialID: rec.CredentialID, Redeemed: rec.Redeemed}
	now := o.svc.now()
	if (rec.State == stateOffered && !now.Before(rec.Expires)) || (rec.State == stateToken && !now.Before(rec.TokenExpires)) {
		st.State = stateExpired
	}
	return st, nil
}

func (o *Offers) load(ctx context.Context, id string) (offerRecord, error) {
	if len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" {
		return offerRecord{}, ErrNotFound
	}
	b, err := o.svc.kv.Get(ctx, bucketOffers, id)
	if errors.Is(err, kv.ErrNotFound) {
		return offerRecord{}, ErrNotFound
	}
	if err != nil {
		return offerRecord{}, err
	}
	var rec offerRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return offerRecord{}, fmt.Errorf("failed to decode offer %s: %w", id, err)
	}
	return rec, nil
}

// update changes an offer record with fn (kv.Update: fn may run again
// under contention); an error from fn writes nothing.
func (o *Offers) update(ctx context.Context, id string, fn func(*offerRecord) error) error {
	return o.svc.kv.Update(ctx, bucketOffers, id, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, ErrNotFound
		}
		var rec offerRecord
		if err := json.Unmarshal(old, &rec); err != nil {
			return nil, fmt.Errorf("failed to decode offer %s: %w", id, err)
		}
		if err := fn(&rec); err != nil {
			return nil, err
		}
		return json.Marshal(rec)
	})
}

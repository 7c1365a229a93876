package issuer

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestOfferTxCode(t *testing.T) {
	e := newOfferEnv(t)
	ctx := context.Background()
	in := template(t, "MedicalLicenseCredential", "di")
	in.TxCode = &TxCodeInput{Value: "493536", Description: "sent by text message"}
	off := e.create(t, e.board, in)
	g := off.Offer.Grants[GrantPreAuthorized]
	if off.TxCode != "493536" || g.TxCode == nil || g.TxCode.Length != 6 || g.TxCode.InputMode != "numeric" || g.TxCode.Description != "sent by text message" {
		t.Fatalf("offer %+v tx %+v", off, g.TxCode)
	}
	tokenReq := func(tx string, has bool) error {
		_, err := e.offers.Token(ctx, e.board.ID, TokenRequest{Code: g.Code, TxCode: tx, HasTxCode: has})
		return err
	}
	if err := tokenReq("", false); code(err) != CodeInvalidRequest {
		t.Errorf("without tx_code: %v", err)
	}
	if err := tokenReq("000000", true); code(err) != CodeInvalidGrant {
		t.Errorf("wrong tx_code: %v", err)
	}
	if st, _ := e.offers.Status(ctx, e.board.ID, off.ID); st.Attempts != 1 || st.State != stateOffered {
		t.Errorf("after one wrong code: %+v", st)
	}
	if err := tokenReq("493536", true); err != nil {
		t.Fatalf("right tx_code: %v", err)
	}
	if err := tokenReq("493536", true); code(err) != CodeInvalidGrant {
		t.Errorf("tx_code used twice: %v", err)
	}

	// A generated code; an offer without one refuses a tx_code.
	in.TxCode = &TxCodeInput{Length: 8}
	gen := e.create(t, e.board, in)
	if len(gen.TxCode) != 8 || strings.Trim(gen.TxCode, "0123456789") != "" || gen.Offer.Grants[GrantPreAuthorized].TxCode.Length != 8 {
		t.Errorf("generated tx_code %q", gen.TxCode)
	}
	in.TxCode = nil
	plain := e.create(t, e.board, in)
	if _, err := e.offers.Token(ctx, e.board.ID, TokenRequest{Code: plain.Offer.Grants[GrantPreAuthorized].Code, TxCode: "1", HasTxCode: true}); code(err) != CodeInvalidRequest {
		t.Errorf("unexpected tx_code: %v", err)
	}
}

func TestOfferTxCodeAttemptsBurn(t *testing.T) {
	e := newOfferEnv(t)
	ctx := context.Background()
	in := template(t, "MedicalLicenseCredential", "di")
	in.TxCode = &TxCodeInput{}
	off := e.create(t, e.board, in)
	req := TokenRequest{Code: off.Offer.Grants[GrantPreAuthorized].Code, TxCode: wrongDigits(off.TxCode), HasTxCode: true}
	for i := range MaxTxAttempts {
		if _, err := e.offers.Token(ctx, e.board.ID, req); code(err) != CodeInvalidGrant {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	req.TxCode = off.TxCode
	if _, err := e.offers.Token(ctx, e.board.ID, req); code(err) != CodeInvalidGrant || !strings.Contains(err.Error(), "withdrawn") {
		t.Errorf("the right code after %d wrong ones: %v", MaxTxAttempts, err)
	}
	st, _ := e.offers.Status(ctx, e.board.ID, off.ID)
	if st.State != stateBurned || st.Attempts != MaxTxAttempts {
		t.Errorf("status %+v", st)
	}
	b, _ := e.svc.kv.Get(ctx, bucketOffers, off.ID)
	if strings.Contains(string(b), `"sealed"`) {
		t.Error("a burned offer keeps its template")
	}
}

func wrongDigits(s string) string {
	b := []byte(s)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestOfferExpiry(t *testing.T) {
	e := newOfferEnv(t)
	ctx := context.Background()
	in := template(t, "MedicalLicenseCredential", "di")
	in.ExpiresIn = 120
	late := e.create(t, e.board, in)
	soon := e.create(t, e.board, in)
	tok := e.token(t, e.board, soon)
	start := e.now
	e.now = start.Add(2 * time.Minute)
	if _, err := e.offers.Token(ctx, e.board.ID, TokenRequest{Code: late.Offer.Grants[GrantPreAuthorized].Code}); code(err) != CodeInvalidGrant {
		t.Errorf("expired code: %v", err)
	}
	u, _ := url.Parse(late.OfferURI)
	if _, err := e.offers.Offer(ctx, e.board.ID, u.Query().Get("ref")); !errors.Is(err, ErrOfferGone) {
		t.Errorf("expired offer by reference: %v", err)
	}
	if st, _ := e.offers.Status(ctx, e.board.ID, late.ID); st.State != stateExpired {
		t.Errorf("status %s", st.State)
	}
	e.now = start.Add(AccessTokenTTL)
	h := newHolderKey(t)
	if _, err := e.offers.Credential(ctx, e.board.ID, tok, request("MedicalLicenseCredential_di", e.proof(t, h, e.board, e.nonce(t, e.board), nil))); code(err) != CodeInvalidToken {
		t.Errorf("expired access token: %v", err)
	}
	// A stale nonce.
	e.now = start
	n := e.nonce(t, e.board)
	e.now = start.Add(NonceTTL + time.Second)
	fresh := e.create(t, e.board, in)
	if _, err := e.offers.Credential(ctx, e.board.ID, e.token(t, e.board, fresh), request("MedicalLicenseCredential_di", e.proof(t, h, e.board, n, nil))); code(err) != CodeInvalidNonce {
		t.Errorf("stale nonce: %v", err)
	}
}

package server

import (
	"context"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/secure"
	walletapi "github.com/credence/credence/wallet-api"
	"github.com/credence/credence/wallet-api/wallet"
	"github.com/gin-gonic/gin"
)

// walletRoutes mounts the holder wallet. Received credentials are verified
// with the verifier's key resolution (proof and data model; their status is
// the verifier's business), and the wallet reaches verifiers and issuers
// through the client that refuses private addresses, and over https only,
// unless --web-allow-private.
func (s *Server) walletRoutes(e *gin.Engine, resolver *did.Resolver) {
	keys := vc.DIDKeys{Resolver: resolver}
	w := &wallet.Service{Store: s.store, Keys: s.keys, Master: s.master, Tokens: s.tokens,
		Verify: func(ctx context.Context, input any) (*secure.Verified, error) {
			return s.engine.VerifyCredential(ctx, input, keys, secure.VerifyOptions{Skew: time.Minute})
		}}
	p := &wallet.Presenter{Wallet: w, Engine: s.engine, HTTP: did.PublicHTTPClient(s.cfg.WebTimeout, s.cfg.WebAllowPrivate),
		AllowHTTP: s.cfg.WebAllowPrivate}
	cl := &wallet.Claimer{Wallet: w, HTTP: p.HTTP, AllowHTTP: s.cfg.WebAllowPrivate}
	(&walletapi.API{Wallet: w, Presenter: p, Tokens: s.tokens, Log: s.log, Claimer: cl}).Routes(e)
}

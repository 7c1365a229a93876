package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/credence/credence/wallet-api/wallet"
	"github.com/spf13/cobra"
)

// The wallet verbs are a client of a running server's wallet API (package
// walletapi): every verb but create-holder acts as one holder, named by
// --holder and authenticated by that holder's token.

func walletCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "wallet", Short: "A holder's wallet on a running server: keep credentials, answer verifiers' requests, read the disclosure log"}
	cmd.AddCommand(walletCreateHolderCmd(), walletAddCmd(), walletListCmd(), walletShowCmd(), walletDeleteCmd(),
		walletPresentCmd(), walletDisclosuresCmd())
	return cmd
}

// walletFlags are clientFlags and the holder the command acts as.
type walletFlags struct {
	clientFlags
	holder string
}

func (f *walletFlags) register(cmd *cobra.Command) {
	f.clientFlags.register(cmd)
	cmd.Flags().Lookup("token").Usage = "the holder's token, printed once by wallet create-holder (env CREDENCE_TOKEN)"
	cmd.Flags().StringVar(&f.holder, "holder", os.Getenv("CREDENCE_HOLDER"), "the holder id printed by wallet create-holder (env CREDENCE_HOLDER)")
}

// url is the URL of path under the holder's routes; it fails when the
// holder context is incomplete.
func (f *walletFlags) url(path string) (string, error) {
	switch {
	case f.server == "":
		return "", errors.New("--server is required: the wallet lives in a running server")
	case f.holder == "":
		return "", errors.New("--holder is required: the holder id printed by wallet create-holder (env CREDENCE_HOLDER)")
	case f.bearer() == "":
		return "", errors.New("--token is required: the holder's token printed by wallet create-holder (env CREDENCE_TOKEN)")
	}
	return strings.TrimSuffix(f.server, "/") + "/wallet/holders/" + url.PathEscape(f.holder) + path, nil
}

// walletCall sends a request and decodes the answer into out. With --json
// it prints the answer as the server sent it instead, and done is true.
func walletCall(cmd *cobra.Command, f *clientFlags, method, u string, body, out any) (done bool, err error) {
	var raw json.RawMessage
	if err := call(cmd.Context(), method, u, f.bearer(), body, &raw); err != nil {
		return true, err
	}
	if f.json {
		return true, printJSON(cmd.OutOrStdout(), raw)
	}
	return false, json.Unmarshal(raw, out)
}

// readWalletInput reads the file name, or standard input for "-", of at
// most limit bytes.
func readWalletInput(cmd *cobra.Command, name string, limit int) ([]byte, error) {
	r := cmd.InOrStdin()
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", name, err)
	}
	if len(b) > limit {
		return nil, fmt.Errorf("%s is larger than the limit of %d KiB", name, limit>>10)
	}
	return b, nil
}

// walletTypes are a credential's types without VerifiableCredential.
func walletTypes(types []string) string {
	if len(types) > 1 {
		types = slices.DeleteFunc(slices.Clone(types), func(t string) bool { return t == "VerifiableCredential" })
	}
	return strings.Join(types, ",")
}

func walletCreateHolderCmd() *cobra.Command {
	var f clientFlags
	var in wallet.HolderInput
	cmd := &cobra.Command{
		Use:   "create-holder [--label TEXT] [--did-method key|jwk]",
		Short: "Create a holder: a key, a DID and the holder's token, shown once (admin token, or a token with scope wallet)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.server == "" {
				return errors.New("--server is required: the wallet lives in a running server")
			}
			var out struct {
				Holder wallet.Holder `json:"holder"`
				Token  string        `json:"token"`
			}
			u := strings.TrimSuffix(f.server, "/") + "/wallet/holders"
			if done, err := walletCall(cmd, &f, http.MethodPost, u, in, &out); done || err != nil {
				return err
			}
			h, w := out.Holder, cmd.OutOrStdout()
			fmt.Fprintf(w, "holder %s created\n  DID                  %s\n  verification method  %s\n", h.ID, h.DID, h.VerificationMethod)
			if h.Label != "" {
				fmt.Fprintf(w, "  label                %s\n", h.Label)
			}
			fmt.Fprintf(w, "  token                %s\n", out.Token)
			fmt.Fprintf(w, "(the token is shown only now: keep it; the wallet verbs take --holder %s --token TOKEN, or CREDENCE_HOLDER and CREDENCE_TOKEN)\n", h.ID)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&in.Label, "label", "", "a label for the holder, such as a name (stored encrypted)")
	cmd.Flags().StringVar(&in.DIDMethod, "did-method", "", "key (Ed25519 did:key, the default) or jwk (P-256 did:jwk)")
	return cmd
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/credence/credence/wallet-api/wallet"
	"github.com/spf13/cobra"
)

// walletPresented is the wallet's answer to a presentation; the
// presentation is kept as the server sent it, for --out.
type walletPresented struct {
	Presentation json.RawMessage   `json:"presentation"`
	Format       string            `json:"format"`
	Disclosure   wallet.Disclosure `json:"disclosure"`
	Response     *wallet.Response  `json:"response,omitempty"`
}

// presentBody is the body of POST .../presentations.
type presentBody struct {
	Request     json.RawMessage `json:"request,omitempty"`
	RequestURI  string          `json:"requestUri,omitempty"`
	Credentials []string        `json:"credentials,omitempty"`
	Format      string          `json:"format,omitempty"`
	Send        *bool           `json:"send,omitempty"`
}

func walletPresentCmd() *cobra.Command {
	var f walletFlags
	var request, out string
	var noSend bool
	var in presentBody
	cmd := &cobra.Command{
		Use:   "present --request URL|FILE [--credential ID]... [--format F] [--no-send] [--out FILE]",
		Short: "Answer a verifier's presentation request: pick credentials, sign a presentation, send it, record the disclosure (exit status 1 when it was not delivered or the verifier refused it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := f.url("/presentations")
			if err != nil {
				return err
			}
			if err := in.setRequest(cmd, request); err != nil {
				return err
			}
			if noSend {
				in.Send = new(false)
			}
			status, b, err := rawCall(cmd.Context(), http.MethodPost, u, f.bearer(), in)
			if err != nil {
				return err
			}
			p, undelivered, err := presentAnswer(status, b)
			if err != nil {
				return err
			}
			if out != "" {
				if err := writePresentation(out, p.Presentation); err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			if f.json {
				err = printJSON(w, json.RawMessage(b))
			} else {
				printPresented(w, p, undelivered != nil, out)
			}
			switch {
			case err != nil:
				return err
			case undelivered != nil:
				return undelivered
			case p.Response != nil && p.Response.Status >= 300:
				return errSilentFailure
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&request, "request", "", "the verifier's request: its URL (http or https), or a FILE (- for standard input) holding the request object")
	cmd.Flags().StringSliceVar(&in.Credentials, "credential", nil, "present only from these wallet credential ids (repeatable)")
	cmd.Flags().StringVar(&in.Format, "format", "", "how to secure a W3C presentation: di, di-jcs, ed25519-2020 or jwt (default: di for did:key holders, jwt for did:jwk); SD-JWT VCs are always SD-JWT+KB")
	cmd.Flags().BoolVar(&noSend, "no-send", false, "make and record the presentation, but do not send it to the verifier")
	cmd.Flags().StringVar(&out, "out", "", "write the presentation to FILE")
	return cmd
}

// setRequest sets the request of b from --request: a URL is fetched by the
// server, a file is read here and sent inline.
func (b *presentBody) setRequest(cmd *cobra.Command, request string) error {
	if request == "" {
		return errors.New("--request is required: the verifier's request URL, or a file holding the request")
	}
	if lower := strings.ToLower(request); strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		b.RequestURI = request
		return nil
	}
	raw, err := readWalletInput(cmd, request, wallet.MaxRequestBytes)
	if err != nil {
		return fmt.Errorf("--request: %w", err)
	}
	raw = bytes.TrimSpace(raw)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("--request %s: a presentation request is a JSON object: %w", request, err)
	}
	b.Request = raw
	return nil
}

// presentAnswer decodes the wallet's answer to a presentation: 201, or 502
// for a presentation made and recorded but not delivered (undelivered is
// then the error to exit with).
func presentAnswer(status int, b []byte) (p walletPresented, undelivered error, err error) {
	switch status {
	case http.StatusCreated:
		err = json.Unmarshal(b, &p)
	case http.StatusBadGateway:
		var r struct {
			Presentation *walletPresented `json:"presentation"`
			Error        json.RawMessage  `json:"error"`
		}
		if json.Unmarshal(b, &r) != nil || r.Presentation == nil {
			return p, nil, responseError(status, b)
		}
		p, undelivered = *r.Presentation, fmt.Errorf("the presentation was made and recorded, but not delivered: %w", responseError(status, r.Error))
	default:
		err = responseError(status, b)
	}
	return p, undelivered, err
}

// writePresentation writes a presentation to name: a compact one (JWT,
// SD-JWT+KB) as a line, a JSON one indented. It holds personal data: the
// file is readable by its owner only.
func writePresentation(name string, raw json.RawMessage) error {
	var tok string
	var buf bytes.Buffer
	if json.Unmarshal(raw, &tok) == nil {
		buf.WriteString(tok)
	} else if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("the presentation is not JSON: %w", err)
	}
	buf.WriteByte('\n')
	if err := os.WriteFile(name, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

func printPresented(w io.Writer, p walletPresented, undelivered bool, out string) {
	d := p.Disclosure
	fmt.Fprintf(w, "presentation (%s) for %s, request %s\n", p.Format, d.Verifier, orDash(d.RequestID))
	switch r := p.Response; {
	case r != nil:
		fmt.Fprintf(w, "  verifier answered    %d %s: %s\n", r.Status, http.StatusText(r.Status), orDash(d.Outcome))
	case undelivered:
		fmt.Fprintf(w, "  not delivered to the verifier\n")
	default:
		fmt.Fprintf(w, "  not sent to the verifier\n")
	}
	printDisclosed(w, d.Credentials)
	if out != "" {
		fmt.Fprintf(w, "  written to           %s\n", out)
	}
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/credence/credence/internal/loadgen"
	"github.com/spf13/cobra"
)

func benchCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure a running server"}
	cmd.AddCommand(benchVerifyCmd())
	return cmd
}

// benchOutput is what bench verify prints with --json.
type benchOutput struct {
	URL         string          `json:"url"`
	Concurrency int             `json:"concurrency"`
	Result      *loadgen.Result `json:"result"`
}

func benchVerifyCmd() *cobra.Command {
	var f clientFlags
	var credential string
	var cfg loadgen.Config
	cmd := &cobra.Command{
		Use:   "verify --server URL --credential FILE|-",
		Short: "Load POST /credentials/verify with one credential from keep-alive clients; prints verifications/s and latency",
		Long: `Sends the same credential to POST /credentials/verify from --concurrency
clients, each waiting for its answer before the next request (a closed
loop), after --warmup requests that are not counted. Run it on another
machine, or at least in another process than the server, so that the
load generator's CPU is not the server's. Answers other than 200 count as
errors. The server limits verifications without a token per client address
(--anonymous-verify-rate): give a verifier's --token, or start the server
with --anonymous-verify-rate 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.server == "" || credential == "" {
				return errors.New("--server and --credential are required")
			}
			if cfg.Requests <= 0 && cfg.Duration <= 0 {
				return errors.New("give --requests or --duration")
			}
			raw, err := readWalletInput(cmd, credential, 1<<20)
			if err != nil {
				return err
			}
			vc, err := credentialInput(raw)
			if err != nil {
				return fmt.Errorf("--credential: %w", err)
			}
			if cfg.Body, err = json.Marshal(map[string]json.RawMessage{"verifiableCredential": vc}); err != nil {
				return err
			}
			cfg.URL = strings.TrimSuffix(f.server, "/") + "/credentials/verify"
			if tok := f.bearer(); tok != "" {
				cfg.Header = http.Header{"Authorization": {"Bearer " + tok}}
			}
			cfg.OK = func(s int) bool { return s == http.StatusOK }
			res, err := loadgen.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if f.json {
				if err := printJSON(cmd.OutOrStdout(), benchOutput{URL: cfg.URL, Concurrency: cfg.Concurrency, Result: res}); err != nil {
					return err
				}
			} else {
				printBench(cmd.OutOrStdout(), cfg, res)
			}
			if res.Requests == 0 {
				return fmt.Errorf("no verification succeeded: %s", res.FirstError)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&credential, "credential", "", "the credential to verify: a file or - (a JSON credential, an issuer's answer, or a compact JWT / SD-JWT)")
	cmd.Flags().IntVar(&cfg.Concurrency, "concurrency", 32, "concurrent keep-alive clients")
	cmd.Flags().IntVar(&cfg.Requests, "requests", 0, "stop after this many requests")
	cmd.Flags().DurationVar(&cfg.Duration, "duration", 0, "stop after this long")
	cmd.Flags().IntVar(&cfg.Warmup, "warmup", 200, "requests sent first and not counted")
	return cmd
}

func printBench(w io.Writer, cfg loadgen.Config, r *loadgen.Result) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
	fmt.Fprintf(w, "POST %s, %d clients\n", cfg.URL, cfg.Concurrency)
	fmt.Fprintf(w, "  verified      %d in %s (%d errors)\n", r.Requests, r.Elapsed.Round(time.Millisecond), r.Errors)
	fmt.Fprintf(w, "  throughput    %.0f verifications/s\n", r.PerSecond)
	fmt.Fprintf(w, "  latency       p50 %s  p90 %s  p99 %s  max %s\n", ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max))
	if r.FirstError != "" {
		fmt.Fprintf(w, "  first error   %s\n", r.FirstError)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/credence/credence/internal/config"
	"github.com/credence/credence/internal/server"
	"github.com/spf13/cobra"
)

// demoOptions are the flags of credence demo.
type demoOptions struct {
	server, token           string
	json, keep              bool
	webhookAddr, webhookURL string
	// practiceState is the hospital's state of practice: TX, where the
	// board licenses the clinician (tests set another to provoke a
	// rejection where an acceptance is expected).
	practiceState string
}

func demoCmd() *cobra.Command {
	o := demoOptions{practiceState: "TX"}
	cmd := &cobra.Command{
		Use:   "demo [--server URL --token ADMIN_TOKEN] [--json] [--keep]",
		Short: "Run the whole story end to end: board → license → clinician wallet → hospital verify → revoke → reject (exit status 1 when an outcome is not the expected one)",
		Long: `Runs the story of Credence end to end and tells what happened, step by step:
a Texas medical board becomes an issuer on the ledger and is accredited by the
steward; it issues a license into a clinician's wallet; a Texas hospital asks for
the license and watches it (a webhook received by a listener of this process);
the wallet answers and the hospital accepts; the board revokes the license, the
webhook fires and the next presentation is rejected with CREDENTIAL_REVOKED;
finally the hospital's audit log and the ledger are verified.

By default the demo starts its own server in this process (embedded store, a
temporary data dir, 127.0.0.1 on a random port) and removes it afterwards;
--keep keeps the data dir. With --server and an admin --token it runs against a
running service instead, which must allow loopback http webhooks and wallet
requests (--did-web-allow-private) unless --webhook-url names an address it may
reach. Exits non-zero when a step does not have the expected outcome.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.token == "" && o.server != "" {
				o.token = os.Getenv("CREDENCE_TOKEN")
			}
			switch {
			case o.server != "" && o.token == "":
				return errors.New("--server needs an admin --token (or CREDENCE_TOKEN)")
			case o.server == "" && cmd.Flags().Changed("token"):
				return errors.New("--token is for --server: the in-process server makes its own")
			case o.server != "" && o.keep:
				return errors.New("--keep keeps the in-process server's data dir: it does not go with --server")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDemo(ctx, o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.server, "server", "", "run against this Credence server instead of an in-process one")
	f.StringVar(&o.token, "token", "", "the admin token of --server (env CREDENCE_TOKEN)")
	f.BoolVar(&o.json, "json", false, "print a machine-readable record of the steps instead of the story")
	f.BoolVar(&o.keep, "keep", false, "keep the in-process server's data dir (printed at the end, with its admin token)")
	f.StringVar(&o.webhookAddr, "webhook-addr", "127.0.0.1:0", "listen address of the demo's webhook receiver")
	f.StringVar(&o.webhookURL, "webhook-url", "", "URL the server posts webhooks to (default: http:// and the receiver's address)")
	return cmd
}

// demoRecord is what --json prints.
type demoRecord struct {
	OK        bool       `json:"ok"`
	Server    string     `json:"server"`
	InProcess bool       `json:"inProcess"`
	DataDir   string     `json:"dataDir,omitempty"`
	Millis    int64      `json:"ms"`
	Steps     []demoStep `json:"steps"`
	Summary   string     `json:"summary"`
	// AdminToken is the in-process server's, only with --keep.
	AdminToken string `json:"adminToken,omitempty"`
}

// demoStep is one step of the story: what it did, whether its outcome was
// the expected one, the facts it showed and how long it took.
type demoStep struct {
	Step   int       `json:"step"`
	Title  string    `json:"title"`
	OK     bool      `json:"ok"`
	Millis int64     `json:"ms"`
	Facts  demoFacts `json:"facts"`
	Error  string    `json:"error,omitempty"`
}

type demoFact struct {
	key, label, text string
	value            any
}

// demoFacts print as lines and marshal as one JSON object, in order.
type demoFacts []demoFact

func (f demoFacts) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, x := range f {
		k, _ := json.Marshal(x.key)
		v, err := json.Marshal(x.value)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// add records a fact; text, when given, is how it reads (default: the value).
func (s *demoStep) add(key, label string, value any, text ...string) {
	t := fmt.Sprint(value)
	if ss, ok := value.([]string); ok {
		t = strings.Join(ss, ", ")
	}
	if len(text) > 0 {
		t = text[0]
	}
	s.Facts = append(s.Facts, demoFact{key: key, label: label, text: t, value: value})
}

// demo is one run: the target server, the actors' identities and tokens,
// and the record.
type demo struct {
	ctx         context.Context
	opt         demoOptions
	w           io.Writer // nil with --json
	base, admin string
	suffix      string // makes names unique on a shared server
	hook        *demoWebhook
	rec         demoRecord
	board       demoTenant
	hospital    demoTenant
	holder      demoTenant
	credential  json.RawMessage
	credID      string
	request     demoRequest
	accepted    time.Duration // from the wallet's answer to the decision
	notified    time.Duration // from the revocation to the webhook
	rejectCodes []string
	auditKey    string
}

type demoTenant struct{ ID, DID, Token string }

// runDemo runs the story against o.server or an in-process server and
// writes it (or its record) to w; errSilentFailure when a step failed.
func runDemo(ctx context.Context, o demoOptions, w io.Writer) error {
	start := time.Now()
	d := &demo{ctx: ctx, opt: o, base: strings.TrimSuffix(o.server, "/"), admin: o.token}
	if !o.json {
		d.w = w
	}
	if o.server == "" {
		local, err := startDemoServer(ctx)
		if err != nil {
			return err
		}
		defer local.stop(o.keep)
		d.base, d.admin, d.rec.InProcess = local.url, local.admin, true
		if o.keep {
			d.rec.DataDir, d.rec.AdminToken = local.dir, local.admin
		}
	} else {
		d.suffix = "-" + randomHex(3)
	}
	d.rec.Server = d.base
	hook, err := listenWebhook(o.webhookAddr, o.webhookURL)
	if err != nil {
		return err
	}
	defer hook.close()
	d.hook = hook
	d.printf("Credence demo: a medical board, a clinician's wallet and a hospital, end to end\n")
	where := "a running service"
	if d.rec.InProcess {
		where = "in-process, embedded store in a temporary data dir"
	}
	d.printf("server   %s (%s)\nwebhooks %s (a listener in this process)\n", d.base, where, hook.url)
	for i, s := range d.steps() {
		if !d.run(i+1, s.title, s.fn) {
			break
		}
	}
	d.rec.Millis = time.Since(start).Milliseconds()
	d.summary()
	if o.json {
		if err := printJSON(w, d.rec); err != nil {
			return err
		}
	}
	if !d.rec.OK {
		return errSilentFailure
	}
	return nil
}

func (d *demo) printf(format string, args ...any) {
	if d.w != nil {
		fmt.Fprintf(d.w, format, args...)
	}
}

// run runs one step, records it and prints it; false when it failed.
func (d *demo) run(n int, title string, fn func(*demoStep) error) bool {
	s := demoStep{Step: n, Title: title, Facts: demoFacts{}}
	t := time.Now()
	err := fn(&s)
	s.Millis, s.OK = time.Since(t).Milliseconds(), err == nil
	if err != nil {
		s.Error = err.Error()
	}
	d.rec.Steps = append(d.rec.Steps, s)
	d.printf("\n%d. %s  (%s)\n", n, title, fmtMillis(s.Millis))
	for _, f := range s.Facts {
		d.printf("   %-18s %s\n", f.label, f.text)
	}
	if err != nil {
		d.printf("   FAILED: %s\n", strings.ReplaceAll(err.Error(), "\n", "\n     "))
	}
	return err == nil
}

func fmtMillis(ms int64) string {
	if ms < 1000 {
		return fmt.Sprintf("%d ms", ms)
	}
	return fmt.Sprintf("%.1f s", float64(ms)/1000)
}

// summary tells the outcome and where to look next.
func (d *demo) summary() {
	steps := d.steps()
	ok := 0
	for _, s := range d.rec.Steps {
		if s.OK {
			ok++
		}
	}
	d.rec.OK = ok == len(steps)
	if d.rec.OK {
		d.rec.Summary = fmt.Sprintf("The hospital accepted the license (decision in %s); the board revoked it; the hospital's webhook "+
			"arrived %s later and the next presentation was rejected (%s). The audit log and the ledger verify.",
			fmtMillis(d.accepted.Milliseconds()), fmtMillis(d.notified.Milliseconds()), strings.Join(d.rejectCodes, ", "))
	} else {
		failed := d.rec.Steps[len(d.rec.Steps)-1]
		d.rec.Summary = fmt.Sprintf("Step %d (%s) did not have the expected outcome: %s", failed.Step, failed.Title, failed.Error)
	}
	verdict := ""
	if !d.rec.OK {
		verdict = fmt.Sprintf("FAILED at step %d; ", len(d.rec.Steps))
	}
	d.printf("\nSummary: %s%d of %d steps as expected, in %s.\n%s\n", verdict, ok, len(steps), fmtMillis(d.rec.Millis), d.rec.Summary)
	if d.rec.OK {
		d.whereToLook()
	}
}

func (d *demo) whereToLook() {
	d.printf("\nWhere to look:\n")
	switch {
	case d.rec.InProcess && d.opt.keep:
		dir := d.rec.DataDir
		d.printf("  data dir           %s (kept; remove it when done)\n", dir)
		d.printf("  its admin token    %s (of this throwaway server only)\n", d.rec.AdminToken)
		d.printf("  audit export       credence audit verify %s --key %s\n", demoAuditFile(dir), d.auditKey)
		d.printf("  ledger             credence registry verify --data %s\n", dir)
		d.printf("  serve it again     credence serve --data %s --addr %s --did-web-allow-private\n", dir, strings.TrimPrefix(d.base, "http://"))
	case d.rec.InProcess:
		d.printf("  the in-process server and its data dir are gone; run `credence demo --keep` to look around afterwards\n")
	default:
		d.printf("  audit log          credence audit export --server %s --token $ADMIN --chain %s --out audit.jsonl\n", d.base, d.hospital.ID)
		d.printf("  ledger             credence registry verify --server %s\n", d.base)
		d.printf("  trust registry     credence trust list --server %s\n", d.base)
	}
}

// demoServer is the in-process server of a demo.
type demoServer struct {
	url, admin, dir string
	stop            func(keep bool)
}

// startDemoServer serves every role on a fresh data dir on a random
// loopback port, quietly. Loopback is allowed for the wallet's requests and
// the webhooks (both go to this machine).
func startDemoServer(ctx context.Context) (*demoServer, error) {
	dir, err := os.MkdirTemp("", "credence-demo-")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*demoServer, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	cfg := config.Defaults()
	cfg.DataDir, cfg.Addr, cfg.WebAllowPrivate = dir, ln.Addr().String(), true
	cfg.PublicURL = "http://" + cfg.Addr
	cfg.ShutdownTimeout = 2 * time.Second
	if err := cfg.Validate(); err != nil {
		ln.Close()
		return fail(err)
	}
	srv, err := server.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		ln.Close()
		return fail(err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	stop := func(keep bool) {
		cancel()
		<-done
		srv.Close()
		if !keep {
			os.RemoveAll(dir)
		}
	}
	return &demoServer{url: cfg.PublicURL, admin: srv.BootstrapToken, dir: dir, stop: stop}, nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/credence/credence/internal/config"
	"github.com/credence/credence/internal/server"
	"github.com/spf13/cobra"
)

func serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Credence service (every role on embedded storage by default; --roles and --redis split it into processes)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags(), os.Getenv)
			if err != nil {
				return fmt.Errorf("invalid configuration:\n%w", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, cfg, cmd.ErrOrStderr())
		},
	}
	config.RegisterFlags(cmd.Flags())
	return cmd
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func serve(ctx context.Context, cfg config.Config, stderr io.Writer) error {
	log := newLogger(cfg, stderr)
	gogc := server.TuneGC(os.Getenv)
	// Listen first: server.New records a new admin token, which must then be shown,
	// so nothing that can fail may come between the two.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("failed to listen on %s: %w", cfg.Addr, err)
	}
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer srv.Close()
	if srv.BootstrapToken != "" {
		// Written to the terminal once, never to the log.
		fmt.Fprintf(stderr, "\nAdmin token (shown once; store it now, it cannot be recovered):\n\n    %s\n\n", srv.BootstrapToken)
	}
	// Load (or make) the TLS certificate before announcing readiness; Serve loads it again.
	if _, err := srv.TLSConfig(); err != nil {
		ln.Close()
		return err
	}
	if srv.MasterKeyCreated {
		log.Warn("created a new master key file in the data dir; back it up: without it the stored keys cannot be decrypted")
	}
	log.Info("credence is ready", "url", cfg.PublicURL, "listen", ln.Addr().String(), "did", srv.ServiceDID, "roles", cfg.Roles,
		"storage", map[bool]string{true: "redis", false: "embedded"}[cfg.Redis != ""], "data", cfg.DataDir, "ledgerKey", srv.LedgerKey, "gogc", gogc)
	if srv.WitnessKey != "" {
		// Public: the registries this server witnesses configure it in their --witnesses.
		log.Info("witnessing other registries' logs", "witnessKey", srv.WitnessKey, "logs", cfg.WitnessLogList())
	}
	return srv.Serve(ctx, ln)
}

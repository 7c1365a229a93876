package main

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/credence/credence/issuer"
	"github.com/spf13/cobra"
)

func issuerCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "issuer", Short: "Create and list issuer tenants (boards, facilities, identity providers)"}
	cmd.AddCommand(issuerCreateCmd(), issuerListCmd())
	return cmd
}

func issuerCreateCmd() *cobra.Command {
	var f clientFlags
	var in issuer.TenantInput
	cmd := &cobra.Command{
		Use:   "create --name NAME --jurisdiction ST --type TYPE",
		Short: "Create an issuer: its did:credence DID on the ledger, its keys and its API token (admin token required)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.server == "" {
				return fmt.Errorf("--server is required: issuers live in a running server")
			}
			var out struct {
				Issuer issuer.Tenant `json:"issuer"`
				Token  string        `json:"token"`
			}
			if err := call(cmd.Context(), http.MethodPost, strings.TrimSuffix(f.server, "/")+"/admin/issuers", f.bearer(), in, &out); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if f.json {
				return printJSON(w, out)
			}
			t := out.Issuer
			fmt.Fprintf(w, "issuer %s created\n  name           %s\n  DID            %s\n  jurisdictions  %s\n  types          %s\n",
				t.ID, t.Name, t.DID, strings.Join(t.Jurisdictions, ", "), strings.Join(t.Types, ", "))
			fmt.Fprintf(w, "  API token      %s\n(the token is shown only now: keep it; it grants scope %s)\n", out.Token, issuer.Scope(t.ID))
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&in.Name, "name", "", "the issuer's name")
	cmd.Flags().StringVar(&in.ID, "id", "", "the issuer id (default: derived from the name)")
	cmd.Flags().StringSliceVar(&in.Jurisdictions, "jurisdiction", nil, "USPS state code the issuer is recognized for (repeatable)")
	cmd.Flags().StringSliceVar(&in.Types, "type", nil, "credential type the issuer may issue (repeatable; * for any non-healthcare type)")
	cmd.Flags().StringVar(&in.Algorithm, "algorithm", "", "key algorithm: Ed25519 (default) or P-256")
	return cmd
}

func issuerListCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List issuers (admin token required)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.server == "" {
				return fmt.Errorf("--server is required")
			}
			var out struct {
				Issuers []issuer.Tenant `json:"issuers"`
			}
			if err := call(cmd.Context(), http.MethodGet, strings.TrimSuffix(f.server, "/")+"/admin/issuers", f.bearer(), nil, &out); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if f.json {
				return printJSON(w, out)
			}
			for _, t := range out.Issuers {
				fmt.Fprintf(w, "%-28s %-10s %s  (%s)\n", t.ID, strings.Join(t.Jurisdictions, ","), t.DID, t.Name)
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

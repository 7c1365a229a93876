// Command credence is the one Credence binary: `credence serve` runs every role;
// the other verbs are the command-line client.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := rootCmd().Execute(); err != nil {
		if err.Error() != "" { // errSilentFailure: the command reported already
			fmt.Fprintln(os.Stderr, "credence:", err)
		}
		os.Exit(1)
	}
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "credence",
		Short:         "Decentralized identity and provider credentialing",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), didCmd(), registryCmd(), issuerCmd(), vcCmd())
	root.AddCommand(auditCmd())
	root.AddCommand(trustCmd())
	root.AddCommand(walletCmd())
	root.AddCommand(benchCmd())
	root.AddCommand(demoCmd())
	return root
}

package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newCompletionCommand writes shell completion scripts. Completion knows
// every command and flag, the values of enumerated flags, and asks the
// server for CA and certificate Identifiers where a command takes one.
func newCompletionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Write a shell completion script",
		Long: `Write the completion script of a shell to standard output. Completion covers every command
and flag, the values of flags such as --status or -o, and CA and certificate Identifiers
(asked from the server the other flags on the line, or the environment, point at).`,
		Example: `  source <(pcad completion bash)                       # bash, this shell
  pcad completion bash > /etc/bash_completion.d/pcad   # bash, every shell
  pcad completion zsh > "${fpath[1]}/_pcad"             # zsh (with compinit)
  pcad completion fish > ~/.config/fish/completions/pcad.fish`,
		GroupID:               groupClient,
		DisableFlagsInUseLine: true,
		ValidArgs:             []string{"bash", "zsh", "fish", "powershell"},
		Args:                  cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, w := cmd.Root(), cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(w, true)
			case "zsh":
				return root.GenZshCompletion(w)
			case "fish":
				return root.GenFishCompletion(w, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(w)
			}
			return fmt.Errorf("no completion for shell %q", args[0])
		},
	}
}

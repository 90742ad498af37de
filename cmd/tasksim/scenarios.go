package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tasksim/tasksim/scenarios"
	"github.com/tasksim/tasksim/sim"
)

func newScenariosCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List, show and validate scenario files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return badInput(errors.New("scenarios needs a subcommand: list, show or validate (see 'tasksim scenarios --help')"))
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the built-in scenarios and what each shows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			for _, name := range scenarios.Names() {
				data, _ := scenarios.Builtin(name)
				cfg, err := scenarios.Load(name+".yaml", data, nil)
				if err != nil {
					return fmt.Errorf("built-in scenario %s does not load: %w", name, err)
				}
				fmt.Fprintf(tw, "%s\t%s\n", name, scenarios.Shows(name, cfg.Description))
			}
			return tw.Flush()
		},
	})
	var sets []string
	show := &cobra.Command{
		Use:   "show NAME|FILE",
		Short: "Print a scenario with every default filled in",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadScenario(args[0], sets, "")
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(scenarios.Show(cfg))
			return err
		},
	}
	show.Flags().StringArrayVar(&sets, "set", nil, "override a field before showing (repeatable)")
	cmd.AddCommand(show)
	cmd.AddCommand(&cobra.Command{
		Use:   "validate FILE...",
		Short: "Check scenario files; print every error with file:line:column",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, arg := range args {
				file, data, err := scenarios.Resolve(arg)
				var cfg *sim.Config
				if err == nil {
					cfg, err = scenarios.Load(file, data, nil)
				}
				if err == nil {
					// What run would refuse is not valid either.
					err = admit(cfg, 1, false, cmd.ErrOrStderr())
				}
				if err != nil {
					bad++
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", file)
			}
			if bad > 0 {
				return badInput(fmt.Errorf("%d of %d scenario files are not valid", bad, len(args)))
			}
			return nil
		},
	})
	return cmd
}

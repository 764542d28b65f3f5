package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/genops-mesh/otelcol-genops/internal/pricing"
)

func newPricing() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pricing",
		Short: "Work with the AI price table",
	}
	cmd.AddCommand(newPricingCheck())
	return cmd
}

func newPricingCheck() *cobra.Command {
	var models []string
	var at string
	cmd := &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a price table; print which row prices a model at a time",
		Long: `Loads a price table as the governance processor does (every price a
decimal from 0 to 1,000,000 with at most nine decimals, known keys, no two
rows of one glob from the same day), then reports rows that can never
apply (a glob shadowed by an earlier one) as problems and periods in which
a glob prices nothing as notes. With --model, prints the row that prices
each model at --at (default: today, UTC) and its prices per million
tokens. Exits non-zero on any problem.`,
		Example: `  genopsctl pricing check config/pricing.yaml
  genopsctl pricing check config/pricing.yaml --model gpt-4o-mini --model claude-3-7-sonnet --at 2026-11-01`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			when := time.Now().UTC()
			if at != "" {
				d, err := time.Parse(time.DateOnly, at)
				if err != nil {
					return fmt.Errorf("--at %q: not a YYYY-MM-DD date", at)
				}
				when = d
			}
			t, err := pricing.Load(args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			problems := 0
			for _, f := range t.Check() {
				kind := "note"
				if f.Problem {
					kind, problems = "problem", problems+1
				}
				fmt.Fprintf(out, "%s: %s: %s\n", args[0], kind, f.Text)
			}
			for _, m := range models {
				fmt.Fprint(out, t.Describe(m, when))
			}
			if problems > 0 {
				return errors.New(plural(problems, "problem") + " in " + args[0])
			}
			fmt.Fprintf(out, "%s: %d rows, %s, valid\n", args[0], len(t.Models), t.Currency)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&models, "model", nil, "a model name to price (repeatable)")
	cmd.Flags().StringVar(&at, "at", "", "the day (YYYY-MM-DD, UTC) to price --model at; default today")
	return cmd
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

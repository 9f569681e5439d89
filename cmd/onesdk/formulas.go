package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk"
)

func newFormulasCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "formulas",
		Short: "List and run Kimi's official tools (the Formula API)",
		Long: `Kimi's official tools are formulas, addressed by a URI such as
moonshot/web-search:latest; a short name (web-search, convert, date, base64,
fetch, memory, random-choice, excel, rethink, mew) means moonshot/<name>:latest.
'formulas tools' lists a formula's tools as a chat declares them; 'formulas
run' runs one function as a fiber and prints its output. 'onesdk chat --tool'
lets the model call them. Provider kimi only.`,
	}
	tools := &cobra.Command{
		Use:   "tools FORMULA",
		Short: "List a formula's tools",
		Long: `List a formula's tools: the name each is called by in a chat, and its
description. A plugin's functions (excel's) are listed under the chat name
<plugin>_<function> (run as <plugin>.<function>). With --json the list is
printed as the platform sent it.`,
		Example: `  onesdk formulas tools convert
  onesdk --json formulas tools moonshot/web-search:latest`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cobra.FixedCompletions(officialFormulas[:len(officialFormulas)-1], cobra.ShellCompDirectiveNoFileComp),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(a, cmd, func(sdk *onesdk.SDK, ctx context.Context) (*onesdk.FormulaTools, error) {
				return sdk.ListFormulaTools(ctx, args[0])
			}, func(w io.Writer, l *onesdk.FormulaTools) error {
				if a.jsonOut {
					return writeJSON(w, l)
				}
				var t table
				t.row("NAME", "RUN AS", "DESCRIPTION")
				for _, f := range l.Functions() {
					t.row(f.Tool.Function.Name, f.Name, short(f.Tool.Function.Description, 80))
				}
				return t.write(w)
			})
		},
	}
	run := &cobra.Command{
		Use:   "run FORMULA NAME [ARGUMENTS]",
		Short: "Run one function of a formula",
		Long: `Run one function of a formula with ARGUMENTS, a JSON object (default {}),
and print its output; an encrypted output (web search's, which only the
model can read) is printed as it is. A fiber that did not succeed is an
error (exit code 1). With --json the fiber object is printed.`,
		Example: `  onesdk formulas run convert convert '{"value":72,"from_unit":"°F","to_unit":"°C"}'
  onesdk formulas run base64 base64_encode '{"data":"hello"}'
  onesdk formulas run excel excel.describe '{"file_id":"cs-…"}'`,
		Args: cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			arguments := "{}"
			if len(args) == 3 {
				arguments = strings.TrimSpace(args[2])
			}
			return call(a, cmd, func(sdk *onesdk.SDK, ctx context.Context) (*onesdk.Fiber, error) {
				return sdk.RunFormula(ctx, args[0], args[1], arguments)
			}, func(w io.Writer, f *onesdk.Fiber) error {
				if a.jsonOut {
					return writeJSON(w, f)
				}
				out, err := f.Result()
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(w, out)
				return err
			})
		},
	}
	cmd.AddCommand(tools, run)
	return cmd
}

package main

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk"
)

func newBalanceCmd(a *app) *cobra.Command {
	var currency string
	cmd := &cobra.Command{
		Use:   "balance",
		Short: "Show the account balance",
		Long: `Show the account balance: available (cash + voucher; at or below 0 Kimi
refuses chat requests), voucher, cash (negative when in arrears) and the
currency. The amounts are printed exactly as Kimi sent them (decimal text,
no float rounding), in the table and as JSON numbers with --json, which
prints the balance as one JSON object.

Kimi's balance endpoint does not state its currency: it is inferred from
the host, CNY on api.moonshot.cn and USD on api.moonshot.ai. Through any
other base URL ('onesdk serve', a proxy, a gateway) it is unknown and shown
as "-" (JSON ""), unless --currency CNY or --currency USD says it.

Provider kimi only; others answer "not supported" (exit code 2).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch strings.ToUpper(currency) {
			case "", "CNY", "USD":
				currency = strings.ToUpper(currency)
			default:
				return usageErrorf("--currency: %q is not CNY or USD", currency)
			}
			return call(a, cmd, method((*onesdk.SDK).GetBalance), func(w io.Writer, b *onesdk.Balance) error {
				if currency != "" {
					// What onesdk.Config.Currency would give: the currency
					// only labels the amounts, which the server sends as
					// they are.
					b.Currency = currency
				}
				return a.printBalance(w, b)
			})
		},
	}
	cmd.Flags().StringVar(&currency, "currency", "", `currency of the amounts, CNY or USD (default: inferred from the host; unknown through 'onesdk serve' or a proxy)`)
	_ = cmd.RegisterFlagCompletionFunc("currency", cobra.FixedCompletions([]string{"CNY", "USD"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// amount is the decimal text the server sent, else v.
func amount(raw json.Number, v float64) json.Number {
	if raw != "" {
		return raw
	}
	return json.Number(strconv.FormatFloat(v, 'f', -1, 64))
}

// printBalance prints the amounts as the server wrote them, with no float
// rounding: right-aligned in the table, and as JSON numbers with --json.
func (a *app) printBalance(w io.Writer, b *onesdk.Balance) error {
	amounts := []struct {
		name string
		v    json.Number
	}{{"available", amount(b.AvailableRaw, b.Available)}, {"voucher", amount(b.VoucherRaw, b.Voucher)}, {"cash", amount(b.CashRaw, b.Cash)}}
	doc := map[string]any{"currency": b.Currency}
	for _, am := range amounts {
		doc[am.name] = am.v
	}
	return a.print(w, doc, func(t *table) {
		t.flags = tabwriter.AlignRight
		for _, am := range amounts {
			t.row(am.name+":", string(am.v), orDash(b.Currency), "")
		}
	})
}

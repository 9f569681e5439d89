package main

import (
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/kimi"
)

func newModelsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List the models the account can use",
		Long: `List the models the account can use: id, context length in tokens and
capabilities beyond text input (image, video, reasoning). A context length
the API does not report is taken from the built-in model catalogue. With
--json the list is printed as the API returns it: {"object":"list","data":[...]}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(a, cmd, method((*onesdk.SDK).ListModels), a.printModels)
		},
	}
	cmd.AddCommand(getCmd(a, &cobra.Command{
		Use:               "get MODEL",
		Short:             "Show one model",
		ValidArgsFunction: a.completeModels, // from the catalogue, key or not
	}, nil, (*onesdk.SDK).GetModel, a.printModel))
	return cmd
}

// printModels prints the models of the models command: with --json in the
// API's order, else sorted by id.
func (a *app) printModels(w io.Writer, models []onesdk.Model) error {
	if !a.jsonOut {
		slices.SortFunc(models, func(x, y onesdk.Model) int { return strings.Compare(x.ID, y.ID) })
	}
	return printList(a, w, models, []string{"ID", "CONTEXT", "CAPABILITIES"}, func(m onesdk.Model) []string {
		return []string{m.ID, contextLength(m), capabilities(m)}
	})
}

// printModel prints one model: the object with --json, else its fields.
func (a *app) printModel(w io.Writer, m *onesdk.Model) error {
	return a.print(w, m, func(t *table) {
		t.field("id", m.ID)
		if m.DisplayName != "" {
			t.field("name", m.DisplayName)
		}
		if m.OwnedBy != "" {
			t.field("owned by", m.OwnedBy)
		}
		t.field("context length", contextLength(*m))
		t.field("capabilities", capabilities(*m))
	})
}

// contextLength is the window the API reports or, when it reports none
// (older API versions, providers without a models endpoint such as
// acedata), the one package catalog knows; "-" when neither does.
func contextLength(m onesdk.Model) string {
	n := m.ContextLength
	if n == 0 {
		n = kimi.ContextWindow(m.ID)
	}
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

func capabilities(m onesdk.Model) string {
	var c []string
	if m.SupportsImageIn {
		c = append(c, "image")
	}
	if m.SupportsVideoIn {
		c = append(c, "video")
	}
	if m.SupportsReasoning {
		c = append(c, "reasoning")
	}
	if len(c) == 0 {
		return "-"
	}
	return strings.Join(c, ",")
}

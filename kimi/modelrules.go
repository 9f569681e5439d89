package kimi

import (
	"context"
	"sync"

	"github.com/onesdk-go/onesdk/catalog"
)

// modelRules is what the client knows of a model when it checks a
// request: the catalogue's entry, or else what the server's GET /models
// said of it, or else nothing, and then only the checks that hold for
// every model apply, so that a model the client has never heard of is
// sent as is.
type modelRules struct {
	known  bool   // rules applies; false: generic checks only
	family Family // FamilyUnknown when learned from the server
	rules  catalog.Rules
	// inputs: image and video say which media the model takes.
	inputs, image, video bool
	// id is the model's id; from names where the rules come from, for
	// messages.
	id, from string
}

// catalogueRules returns the catalogue's rules of model, if it has any.
func catalogueRules(model string) modelRules {
	m, ok := catalog.Lookup(model)
	if !ok {
		return modelRules{}
	}
	r, ok := m.Rules()
	return modelRules{known: ok, family: m.Family, rules: r, inputs: true, image: m.ImageInput, video: m.VideoInput, id: m.ID, from: "the catalogue"}
}

// serverRules turns what GET /models reports of a model into rules.
// supports_thinking_type wins over supports_reasoning; "both" is taken
// to mean thinking on unless disabled, as for every such model the
// catalogue lists. The server says nothing of sampling, so none is fixed.
func serverRules(m *Model) modelRules {
	mr := modelRules{known: true, inputs: true, image: m.SupportsImageIn, video: m.SupportsVideoIn, id: m.ID, from: "GET /models"}
	r := &mr.rules
	switch m.SupportsThinkingType {
	case "only":
		r.Thinking = catalog.ThinkingForced
	case "both":
		r.Thinking = catalog.ThinkingDefaultOn
	case "no":
		r.Thinking = catalog.ThinkingNone
	default:
		if m.SupportsReasoning {
			r.Thinking = catalog.ThinkingDefaultOn
		}
	}
	r.Temperature, r.TemperatureNoThinking, r.TopP = -1, -1, -1 // unknown defaults
	r.Tools = m.SupportsToolUse == nil || *m.SupportsToolUse
	if e := m.ThinkEfforts; e != nil && e.Support {
		r.Efforts, r.DefaultEffort = e.ValidEfforts, e.DefaultEffort
	}
	return mr
}

// forProvider applies what the provider changes: a gateway that drops
// fixed sampling parameters makes refusing them wrong.
func (mr modelRules) forProvider(p catalog.ProviderRules) modelRules {
	if p.IgnoresFixedSampling {
		mr.rules.Fixed = 0
	}
	return mr
}

// thinks reports whether a request with thinking t runs with thinking on.
// A model without known rules is taken at its word.
func (mr modelRules) thinks(t *Thinking) bool {
	typ := ""
	if t != nil {
		typ = t.Type
	}
	if mr.known {
		return mr.rules.Thinks(typ)
	}
	return typ == "enabled"
}

// learnedModels is the client's copy of GET /models, fetched the first
// time a request names a model the catalogue lacks, and kept: the rules
// of a model do not change within a client's life.
type learnedModels struct {
	mu      sync.Mutex
	fetched bool
	byID    map[string]*Model
}

// rulesFor returns the rules a request for model is checked against.
func (c *Client) rulesFor(ctx context.Context, model string) modelRules {
	if c.skipModelChecks {
		return modelRules{}
	}
	mr := catalogueRules(model)
	if !mr.known && c.learnModels {
		if m := c.learned.lookup(ctx, c, model); m != nil {
			mr = serverRules(m)
		}
	}
	return mr.forProvider(c.provider)
}

// lookup returns the server's entry for id. The list is asked for once;
// a failure (offline, no models endpoint) is remembered as an empty list,
// so that it costs one request, not one per call.
func (l *learnedModels) lookup(ctx context.Context, c *Client, id string) *Model {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.fetched {
		l.fetched = true
		l.byID = map[string]*Model{}
		list, err := c.Models.List(ctx)
		switch {
		case err == nil:
			for i := range list.Data {
				l.byID[list.Data[i].ID] = &list.Data[i]
			}
		case ctx.Err() != nil:
			l.fetched = false // the caller gave up; the next call asks again
		default:
			c.log.DebugContext(ctx, "kimi: model rules not learned from GET /models", "error", err)
		}
	}
	return l.byID[id]
}

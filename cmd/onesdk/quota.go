package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk/catalog"
	"github.com/onesdk-go/onesdk/quota"
)

// quotaFlags are the flags that hold a command's chat requests to an
// organization's rate limits (package quota): --tier or --limits, the
// clock's --time-scale, a --redis to share the budget, --headroom.
type quotaFlags struct {
	tier      string
	limits    string
	timeScale float64
	redis     string
	headroom  float64
	org       string
}

func (q *quotaFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&q.tier, "tier", "", "hold requests to a Moonshot tier's rate limits: "+strings.Join(tierNames(), ", "))
	f.StringVar(&q.limits, "limits", "", "hold requests to these limits: concurrency=N,rpm=N,tpm=N,tpd=N (omitted: no limit)")
	f.Float64Var(&q.timeScale, "time-scale", 1, "speed of the limits' clock, to match 'onesdk serve --time-scale'")
	f.StringVar(&q.redis, "redis", "", "share the limits with every process using this Redis (redis://host:port/db)")
	f.Float64Var(&q.headroom, "headroom", 1, "share of each limit to use, in (0, 1]: 0.9 leaves a tenth for other software")
	f.StringVar(&q.org, "org", "", "the organization the limits are shared under (default: learned from the first response; set it when processes share --redis)")
	_ = cmd.RegisterFlagCompletionFunc("tier", cobra.FixedCompletions(tierNames(), cobra.ShellCompDirectiveNoFileComp))
}

// limiter returns the Limiter the flags ask for, nil when they ask for
// none.
func (q *quotaFlags) limiter(a *app) (*quota.Limiter, error) {
	if q.tier == "" && q.limits == "" {
		if q.redis != "" {
			return nil, usageErrorf("--redis shares limits: give --tier or --limits too")
		}
		return nil, nil
	}
	if q.tier != "" && q.limits != "" {
		return nil, usageErrorf("give --tier or --limits, not both")
	}
	if q.timeScale <= 0 {
		return nil, usageErrorf("--time-scale must be positive, not %g", q.timeScale)
	}
	if q.headroom <= 0 || q.headroom > 1 {
		return nil, usageErrorf("--headroom must be in (0, 1], not %g", q.headroom)
	}
	var lim catalog.Limits
	if q.tier != "" {
		l, ok := catalog.Tier(q.tier)
		if !ok {
			return nil, usageErrorf("--tier %q: want one of %s", q.tier, strings.Join(tierNames(), ", "))
		}
		lim = l
	} else {
		l, err := parseLimits(q.limits)
		if err != nil {
			return nil, err
		}
		lim = l
	}
	cfg := quota.Config{Limits: lim, Headroom: q.headroom, Clock: quota.ScaledClock(q.timeScale), Org: q.org}
	if q.redis != "" {
		store, closeStore, err := redisStore(q.redis, q.timeScale)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, closeStore)
		cfg.Store = store
	}
	return quota.New(cfg), nil
}

// parseLimits reads concurrency=N,rpm=N,tpm=N,tpd=N (any subset, any
// order).
func parseLimits(s string) (catalog.Limits, error) {
	var l catalog.Limits
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if !ok || err != nil || n < 0 {
			return l, usageErrorf("--limits %q: want concurrency=N,rpm=N,tpm=N,tpd=N with N >= 0", s)
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "concurrency":
			l.Concurrency = n
		case "rpm":
			l.RPM = n
		case "tpm":
			l.TPM = n
		case "tpd":
			l.TPD = n
		default:
			return l, usageErrorf("--limits: unknown limit %q (want concurrency, rpm, tpm or tpd)", k)
		}
	}
	return l, nil
}

// redisStore connects to the Redis of --redis, checking it answers, so
// that a wrong URL is a clear error before any request rather than a
// failure of every admission.
func redisStore(url string, scale float64) (quota.Store, func(), error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, nil, usageErrorf("--redis %q: %v", url, err)
	}
	c := redis.NewClient(opt)
	s := quota.NewRedisStore(c, quota.RedisOptions{Scale: scale})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("--redis %s: %w", url, err)
	}
	return s, func() { c.Close() }, nil
}

func newQuotaCmd(a *app) *cobra.Command {
	return group(&cobra.Command{
		Use:   "quota",
		Short: "Inspect the rate-limit state shared through Redis",
	}, newQuotaStatusCmd(a))
}

func newQuotaStatusCmd(a *app) *cobra.Command {
	var redisURL, org string
	var scale float64
	cmd := &cobra.Command{
		Use:   "status --redis URL --org ORG",
		Short: "Show an organization's current use of each limit",
		Long: `Show what the processes sharing --redis have charged an organization: requests
in flight, requests and tokens in the last minute, tokens in the last 24 h,
requests waiting and any cooldown. ORG is the organization id (the Msh-Org-Id
header, "org-…"), or the name given to the limiters; "default" is the name of
those that have not learned it yet. --time-scale must be the one the
limiters run at. With --json the figures are printed as one object.`,
		Example: `  onesdk quota status --redis redis://127.0.0.1:6379 --org org-79a7ceaf5a8040e6baef25ec0bbad1d9`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if redisURL == "" || org == "" {
				return usageErrorf("give --redis URL and --org ORG")
			}
			store, closeStore, err := redisStore(redisURL, scale)
			if err != nil {
				return err
			}
			defer closeStore()
			ctx, cancel := a.callContext(cmd.Context())
			defer cancel()
			u, err := store.Usage(ctx, org)
			if err != nil {
				return fmt.Errorf("--redis %s: %w", redisURL, err)
			}
			doc := map[string]any{"org": org, "concurrency": u.Concurrency, "rpm": u.Requests,
				"tpm": u.TokensMin, "tpd": u.TokensDay, "waiting": u.Waiting, "cooldown_ms": u.Cooldown.Milliseconds()}
			return a.print(cmd.OutOrStdout(), doc, func(t *table) {
				t.field("org", org)
				t.field("in flight", strconv.Itoa(u.Concurrency))
				t.field("requests, last minute", strconv.Itoa(u.Requests))
				t.field("tokens, last minute", strconv.Itoa(u.TokensMin))
				t.field("tokens, last 24 h", strconv.Itoa(u.TokensDay))
				t.field("waiting", strconv.Itoa(u.Waiting))
				t.field("cooldown", u.Cooldown.String())
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&redisURL, "redis", "", "the Redis the limiters share (redis://host:port/db)")
	f.StringVar(&org, "org", "", "the organization")
	f.Float64Var(&scale, "time-scale", 1, "the limiters' --time-scale")
	return cmd
}

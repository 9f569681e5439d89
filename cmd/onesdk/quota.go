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
}

func (q *quotaFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&q.tier, "tier", "", "hold requests to a Moonshot tier's rate limits: "+strings.Join(tierNames(), ", "))
	f.StringVar(&q.limits, "limits", "", "hold requests to these limits: concurrency=N,rpm=N,tpm=N,tpd=N (omitted: no limit)")
	f.Float64Var(&q.timeScale, "time-scale", 1, "speed of the limits' clock, to match 'onesdk serve --time-scale'")
	f.StringVar(&q.redis, "redis", "", "share the limits with every process using this Redis (redis://host:port/db)")
	f.Float64Var(&q.headroom, "headroom", 1, "share of each limit to use, in (0, 1]: 0.9 leaves a tenth for other software")
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
	cfg := quota.Config{Limits: lim, Headroom: q.headroom, Clock: quota.ScaledClock(q.timeScale)}
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

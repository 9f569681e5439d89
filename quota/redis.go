package quota

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onesdk-go/onesdk/catalog"
)

// RedisOptions configures a RedisStore.
type RedisOptions struct {
	// Prefix starts every key; "" means "onesdk:quota". Stores with
	// different prefixes on one Redis share nothing. It should hold no
	// braces: a hash tag in it would put every organization in one
	// Cluster slot.
	Prefix string
	// Scale is how many of the store's seconds pass per second of
	// Redis's clock, as a ScaledClock's (<= 0 means 1). Every process
	// sharing an organization must use the same Scale, and its Limiter
	// a Clock of that scale.
	Scale float64
}

// RedisStore is a Store shared by every process and machine that uses
// the same Redis (standalone, Sentinel or Cluster) and prefix. Each
// method is one atomic run of a Lua script on the Redis server, one round
// trip; time is the server's (TIME), so the callers' clocks never matter
// (a failover to a replica whose clock differs shifts it).
//
// With a Scale other than 1, the store's time runs Scale times as fast
// as Redis's from an epoch kept in Redis, set on an organization's first
// use, so that every process agrees on it.
//
// An organization's keys share one hash tag, the organization's name in
// braces (so all of them are in one Cluster slot), and expire together
// once idle for longer than anything in them counts (a day and a minute
// of store time, or the longest lease or cooldown).
type RedisStore struct {
	client redis.UniversalClient
	prefix string
	// args are the script's arguments common to every operation.
	args []any
}

//go:embed redis.lua
var redisLua string

// redisScript is run with EVALSHA, falling back to EVAL (which caches
// it) the first time a server has not seen it.
var redisScript = redis.NewScript(redisLua)

// redisIdleMargin is how long, in real time, the keys of an idle
// organization outlive the last thing that counts in them.
const redisIdleMargin = time.Minute

// NewRedisStore returns a store on client (a *redis.Client,
// *redis.ClusterClient, a failover client or a Ring).
func NewRedisStore(client redis.UniversalClient, opts RedisOptions) *RedisStore {
	if opts.Prefix == "" {
		opts.Prefix = "onesdk:quota"
	}
	if opts.Scale <= 0 {
		opts.Scale = 1
	}
	return &RedisStore{
		client: client,
		prefix: opts.Prefix,
		args: []any{
			strconv.FormatFloat(opts.Scale, 'g', -1, 64),
			minuteBucket.Milliseconds(), freedAt(0, minuteBucket, minute),
			dayBucket.Milliseconds(), freedAt(0, dayBucket, day),
			pollWait.Milliseconds(), redisIdleMargin.Milliseconds(),
		},
	}
}

// Ping checks that Redis answers and loads the script, so that the first
// Admit needs no fallback to EVAL.
func (s *RedisStore) Ping(ctx context.Context) error {
	return redisScript.Load(ctx, s.client).Err()
}

// keys are org's keys, in the order the script names them.
func (s *RedisStore) keys(org string) []string {
	base := s.prefix + ":{" + org + "}:"
	return []string{
		base + "state", base + "queue", base + "alive", base + "leases",
		base + "minutes", base + "mcounts", base + "days", base + "dcounts",
	}
}

func (s *RedisStore) run(ctx context.Context, org, op string, args ...any) *redis.Cmd {
	all := make([]any, 0, 1+len(s.args)+len(args))
	all = append(all, op)
	all = append(all, s.args...)
	all = append(all, args...)
	return redisScript.Run(ctx, s.client, s.keys(org), all...)
}

func (s *RedisStore) Admit(ctx context.Context, org string, lim catalog.Limits, a Admission) (Decision, error) {
	res, err := s.run(ctx, org, "admit", a.Ticket, a.Tokens,
		a.LeaseTTL.Milliseconds(), a.TicketTTL.Milliseconds(),
		lim.Concurrency, lim.RPM, lim.TPM, lim.TPD).Slice()
	if err != nil {
		return Decision{}, err
	}
	if len(res) != 4 {
		return Decision{}, fmt.Errorf("quota: redis admit returned %v", res)
	}
	ok, _ := res[0].(int64)
	lease, _ := res[1].(string)
	wait, _ := res[2].(int64)
	limit, _ := res[3].(string)
	return Decision{OK: ok == 1, Lease: lease, Wait: dur(wait), Limit: limit}, nil
}

func (s *RedisStore) Leave(ctx context.Context, org, ticket string) error {
	return s.run(ctx, org, "leave", ticket).Err()
}

func (s *RedisStore) Renew(ctx context.Context, org, lease string, ttl time.Duration) (bool, error) {
	n, err := s.run(ctx, org, "renew", lease, ttl.Milliseconds()).Int64()
	return n == 1, err
}

func (s *RedisStore) Release(ctx context.Context, org, lease string) error {
	return s.run(ctx, org, "release", lease).Err()
}

func (s *RedisStore) Cooldown(ctx context.Context, org string, d time.Duration) error {
	return s.run(ctx, org, "cooldown", d.Milliseconds()).Err()
}

// Carry takes three steps, since from and to may be in two Cluster
// slots: from's windows and leases are read, added to to's, then the
// leases are taken out of from. It is not atomic: a failure part way
// leaves what was carried counted in both, never in neither.
func (s *RedisStore) Carry(ctx context.Context, from, to string) error {
	if from == to {
		return nil
	}
	res, err := s.run(ctx, from, "export").Slice()
	if err != nil {
		return err
	}
	if len(res) != 4 {
		return fmt.Errorf("quota: redis export returned %v", res)
	}
	args := []any{res[0]}
	var leases []any
	for i, r := range res[1:] {
		list, ok := r.([]any)
		if !ok {
			return fmt.Errorf("quota: redis export returned %v", res)
		}
		per := []int{3, 2, 2}[i] // items of a minute bucket, a day bucket, a lease
		args = append(args, len(list)/per)
		args = append(args, list...)
		if i == 2 {
			for j := 0; j < len(list); j += 2 {
				leases = append(leases, list[j])
			}
		}
	}
	if len(args) == 4 { // nothing counts under from
		return nil
	}
	if err := s.run(ctx, to, "import", args...).Err(); err != nil {
		return err
	}
	if len(leases) == 0 {
		return nil
	}
	return s.run(ctx, from, "drop", leases...).Err()
}

func (s *RedisStore) Usage(ctx context.Context, org string) (Usage, error) {
	res, err := s.run(ctx, org, "usage").Int64Slice()
	if err != nil {
		return Usage{}, err
	}
	if len(res) != 6 {
		return Usage{}, fmt.Errorf("quota: redis usage returned %v", res)
	}
	return Usage{
		Concurrency: int(res[0]), Requests: int(res[1]), TokensMin: int(res[2]),
		TokensDay: int(res[3]), Waiting: int(res[4]), Cooldown: dur(res[5]),
	}, nil
}

#!/bin/sh
# Runs BenchmarkStream and BenchmarkCreate (or, with BENCH=BatchResults,
# BenchmarkBatchResults, written to interleaved-batch.txt) with the
# clients interleaved:
# ROUNDS rounds, each running every client's sub-benchmarks once (-count 1),
# starting one client later in each round. Running one client after
# another instead lets a slow spell of a shared machine land on a single
# client; interleaving spreads it over all of them.
#
#	./interleave.sh [rounds [benchtime]]    (defaults: 6 rounds, 1s)
#
# Raw output goes to interleaved.txt, then benchstat summarises it.
set -eu
cd "$(dirname "$0")"
ROUNDS=${1:-6}
BENCHTIME=${2:-1s}
BENCH=${BENCH:-Stream|Create}
if [ "$BENCH" = "Stream|Create" ]; then
	CLIENTS="floor onesdk go-openai openai-go"
	N=4
	out=interleaved.txt
else
	CLIENTS="onesdk go-openai openai-go"
	N=3
	out=interleaved-batch.txt
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One binary for every round, so no round pays for a compile.
go test -c -o "$tmp/bench.test" .

: >"$out"
round=0
while [ "$round" -lt "$ROUNDS" ]; do
	i=0
	while [ "$i" -lt "$N" ]; do
		c=$(echo $CLIENTS | cut -d' ' -f$(((round + i) % N + 1)))
		# floor has no Create case; the pattern then matches only Stream.
		"$tmp/bench.test" -test.run '^$' -test.count 1 -test.benchtime "$BENCHTIME" \
			-test.bench "^Benchmark($BENCH)\$/^client=$c\$" >"$tmp/out"
		if [ "$round" -eq 0 ] && [ "$i" -eq 0 ]; then
			grep -v -e '^PASS' -e '^ok' "$tmp/out" >>"$out"
		else
			grep '^Benchmark' "$tmp/out" >>"$out"
		fi
		i=$((i + 1))
	done
	round=$((round + 1))
done

order="/client@($CLIENTS)"
if [ "$BENCH" != "Stream|Create" ]; then
	go tool benchstat -col "$order" "$out"
	exit
fi
go tool benchstat -filter '.name:Stream' -col "$order" "$out"
echo
go tool benchstat -filter '.name:Create' -col "$order" "$out"

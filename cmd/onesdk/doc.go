// Command onesdk is a command-line client for the onesdk facade and a way to
// run the Kimi API emulator (package kimitest).
//
//	onesdk chat "Explain goroutines in one paragraph"   # streams the answer
//	onesdk chat                                          # interactive session
//	echo "question" | onesdk chat --json                 # one JSON document
//	onesdk chat --json                                   # session, one JSON line per turn
//	onesdk models                                        # id, context, capabilities
//	onesdk models get kimi-k3
//	onesdk cache create --file manual.txt --tag manual --wait   # context cache
//	onesdk chat --cache manual "How do I reset it?"             # ask against it
//	onesdk cache list --meta project=docs                        # also get, update, delete
//	onesdk tag list                                              # also create, get, content, delete
//	onesdk chat --file report.pdf "Summarise the findings"      # document Q&A (repeatable --file)
//	onesdk files upload report.pdf --wait                        # progress bar on a terminal
//	onesdk files list                                            # also get, content, delete
//	onesdk files prune --keep 500 --yes                          # oldest first; a dry run without --yes
//	onesdk tokens --file prompt.txt                              # server count; fits which models?
//	onesdk tokens --offline-estimate "text"                      # local estimate, no request
//	onesdk balance                                               # available, voucher, cash
//	onesdk serve --addr 127.0.0.1:8080 --key sk-test     # local emulator
//	onesdk serve --org sk-a,sk-b --key sk-c              # sk-a and sk-b share an organization
//	onesdk --offline chat "hi"                           # in-process emulator, no key, no network
//	onesdk version
//
// The API key comes from MOONSHOT_API_KEY (ACEDATA_API_TOKEN for --provider
// acedata) and the base URL from MOONSHOT_BASE_URL when --base-url is not
// given. --api-key works but leaves the key in the shell history and the
// process list. The key is never printed, not even with --debug.
//
// chat uses the provider's current general model (kimi-k2.6 on Moonshot,
// kimi-k2.5 on Ace Data Cloud) unless --model says otherwise. The
// reasoning of thinking models (kimi-k2.5 and later) goes to
// standard error, dimmed on a terminal, so that standard output holds only
// the answer; --hide-reasoning drops it. An answer cut by the token limit
// (finish_reason "length") is followed by a note on standard error, except
// with --json, whose document carries the finish reason.
//
// In a chat session Ctrl-C stops the answer being written and returns to
// the prompt, dropping that turn from the history; at the prompt it says
// how to leave (/exit or Ctrl-D). Elsewhere the first SIGINT or SIGTERM
// stops the command (exit code 130), and a second one ends the process
// at once.
//
// Context caches (cache, tag, chat --cache) are Kimi's, for the
// moonshot-v1 models. chat --cache TAG puts a cache message (tag=TAG,
// reset_ttl=3600) first, uses moonshot-v1-128k unless --model names
// another moonshot-v1-* model, and notes the prompt tokens the cache saved
// on standard error (not with --json). With --offline every command starts
// a fresh emulator, so a cache lives only as long as one command; to keep
// caches across commands offline, run 'onesdk serve' in another shell and
// export the MOONSHOT_BASE_URL and MOONSHOT_API_KEY it prints.
//
// Files (files, chat --file) are Kimi's: at most 1,000 per account, which
// 'files prune' keeps in check by deleting the oldest (it only lists them
// unless --yes is given). chat --file uploads each file, waits until Kimi
// has extracted its text, puts the texts ahead of the question and picks
// the smallest model whose context window holds them (unless --model is
// given), naming it on standard error. It deletes the uploads afterwards,
// also after Ctrl-C, for at most 5 seconds; a second Ctrl-C stops that and
// prints the ids of the files that may remain. tokens asks Kimi's free token
// estimation endpoint unless --offline-estimate is given, which counts
// locally with package tokencount and sends nothing. files, tokens
// (without --offline-estimate) and balance need provider kimi.
//
// Exit codes:
//
//	0    success
//	1    other error
//	2    usage error: unknown command or flag, missing argument, bad flag
//	     value, also one the client refuses before sending (a
//	     *kimi.ValidationError, e.g. --temperature 3), a missing or
//	     unreadable file (e.g. files upload, chat --file, cache create
//	     --file, tokens --file), and a feature the provider lacks
//	     (onesdk.ErrUnsupported, e.g. caches, files, tokens or balance with
//	     --provider acedata)
//	3    authentication: key rejected (401/403) or no key configured
//	4    rate limit or quota (429: rate_limit_reached_error, engine overloaded,
//	     exceeded_current_quota_error)
//	5    server or connection: 5xx, timeout, network failure, cut stream
//	6    bad request or not found as the server answered (400, 404, e.g. an
//	     unknown model, cache id, tag or file id, the 1,000-file limit, a
//	     file whose text could not be extracted, documents too long for
//	     every candidate model)
//	130  interrupted (SIGINT or SIGTERM; a second one ends a command that
//	     does not stop at once); serve, which runs until then, exits 0, and
//	     in a chat session Ctrl-C stops the answer only
package main

package catalog

// Context windows, in tokens.
const (
	k8   = 8192
	k32  = 32768
	k128 = 131072
	k256 = 262144
	k1m  = 1048576
)

// Provider sets of the table's entries.
var (
	moonshotOnly = []string{ProviderMoonshot}
	moonshotAce  = []string{ProviderMoonshot, ProviderAceData}
	aceOnly      = []string{ProviderAceData}
	nowhere      = []string{}
)

// k2Retired is the day Moonshot discontinued the K2 line
// (kimi-k2-*-preview, kimi-k2-thinking, kimi-k2-thinking-turbo).
const k2Retired = "2026-05-25"

// providerRules holds each provider's rules once.
var providerRules = map[string]ProviderRules{
	// Moonshot's 2026 OpenAPI marks max_tokens deprecated in favour of
	// max_completion_tokens, which wins when both are sent.
	ProviderMoonshot: {MaxTokensField: "max_completion_tokens", DefaultModel: "kimi-k2.6", DefaultCacheModel: "moonshot-v1-128k"},
	// Ace Data Cloud documents max_tokens only, and its own sample
	// request sends temperature 0.7 to kimi-k2.5, whose temperature
	// Moonshot fixes: its gateway is taken to drop what upstream would
	// refuse (an assumption: no source shows Ace's answer).
	ProviderAceData: {MaxTokensField: "max_tokens", IgnoresFixedSampling: true, DefaultModel: "kimi-k2.5"},
}

// DefaultMaxTokens is the answer budget (max_tokens) taken when a request
// names none and its model's family documents no default of its own: the
// 1024 Moonshot's chat reference gives, reserved by the emulator, the
// offline estimator, document Q&A and the CLI alike.
const DefaultMaxTokens = 1024

// familyRules holds each family's rules once. The defaults and limits are
// those of Moonshot's chat reference, https://platform.moonshot.cn/docs/api/chat;
// automatic caching shows as cached_tokens in the usage and as the
// cache-hit price at https://platform.moonshot.ai/docs/pricing/chat.
var familyRules = map[Family]Rules{
	FamilyMoonshotV1: {
		Thinking: ThinkingNone, Temperature: 0, TopP: 1,
		// The chat reference gives 1024 as max_tokens' default for the
		// moonshot-v1 models.
		DefaultMaxTokens: DefaultMaxTokens,
		Tools:            true,
		// The only family with explicit context caches
		// (https://platform.moonshot.cn/docs/api/caching); no automatic
		// prefix caching.
		ExplicitCache: true,
		ToolCallIDs:   ToolCallIDPlain,
	},
	FamilyKimiLatest: {
		// The docs give no default temperature for kimi-latest; 0.3 is
		// the value they recommend for chat.
		Thinking: ThinkingNone, Temperature: 0.3, TopP: 1,
		Tools: true, AutoCache: true, ToolCallIDs: ToolCallIDPlain,
	},
	FamilyThinkingPreview: {
		Thinking: ThinkingForced, Temperature: 1, TopP: 1,
		// No tools, no automatic caching.
		ToolCallIDs: ToolCallIDPlain,
	},
	FamilyK2: {
		Thinking: ThinkingNone, Temperature: 0.6, TopP: 1,
		Tools: true, AutoCache: true, ToolCallIDs: ToolCallIDQualified,
	},
	FamilyK2Thinking: {
		Thinking: ThinkingForced, Temperature: 1, TopP: 1,
		Tools: true, AutoCache: true, ToolCallIDs: ToolCallIDQualified,
	},
	FamilyK25: {
		// Fixed sampling: temperature 1.0 with thinking, 0.6 without;
		// top_p 0.95; n 1; penalties 0.
		Thinking: ThinkingDefaultOn, Temperature: 1, TemperatureNoThinking: 0.6, TopP: 0.95,
		Fixed: FixedAll, Keep: KeepRefused,
		Tools: true, AutoCache: true, ToolCallIDs: ToolCallIDQualified,
	},
	FamilyK26: {
		// kimi-k2.5's sampling; thinking.keep null or "all" (Moonshot's
		// 2026 OpenAPI). Its tool-call ids are not documented: taken to
		// be kimi-k2.5's.
		Thinking: ThinkingDefaultOn, Temperature: 1, TemperatureNoThinking: 0.6, TopP: 0.95,
		Fixed: FixedAll, Keep: KeepOptional,
		Tools: true, AutoCache: true, ToolCallIDs: ToolCallIDQualified,
	},
	FamilyK27: {
		// Thinking only "enabled" and keep always "all" (documented).
		// The sampling is fixed, at values no source gives: taken to be
		// kimi-k2.5's with thinking on.
		Thinking: ThinkingForced, Temperature: 1, TopP: 0.95,
		Fixed: FixedAll, Keep: KeepAlways,
		Tools: true, AutoCache: true, ToolCallIDs: ToolCallIDUnderscore,
	},
	FamilyK3: {
		// Always reasoning, at the top-level reasoning_effort; only
		// temperature 1 is accepted (a captured 400), and tool_choice
		// "required" is accepted while it reasons. The docs give no
		// default effort and no answer to thinking.type "disabled": the
		// default is taken to be "high" (as /models' think_efforts shows
		// it) and "disabled" to be refused as on kimi-k2.7.
		Thinking: ThinkingForced, Temperature: 1, TopP: 1,
		Fixed:   ParamTemperature,
		Efforts: []string{"low", "high", "max"}, DefaultEffort: "high", RequiredWhileThinking: true,
		Tools: true, AutoCache: true, ToolCallIDs: ToolCallIDUnderscore,
	},
}

// models is the table: one entry per model id, in the order GET /models
// of the emulator lists them. Windows and input kinds follow the model
// list of June 2026 (https://platform.kimi.ai/docs/models); Created is
// the value GET /models reports (for the 2026 models, the release day,
// as the sources give no value). The moonshot-v1-auto router and the
// vision previews are in the 2026 OpenAPI but not in that list: kept.
// Ace Data Cloud offers the models its docs list: kimi-k2.5, its own
// kimi-k2-instruct-0905, the K2 thinking models Moonshot has retired,
// and kimi-k3 (its newest guide).
var models = []Model{
	{ID: "moonshot-v1-8k", Family: FamilyMoonshotV1, ContextWindow: k8, ExplicitCache: true, Created: 1709149158, Status: StatusActive, Providers: moonshotOnly},
	{ID: "moonshot-v1-32k", Family: FamilyMoonshotV1, ContextWindow: k32, ExplicitCache: true, Created: 1709149158, Status: StatusActive, Providers: moonshotOnly},
	{ID: "moonshot-v1-128k", Family: FamilyMoonshotV1, ContextWindow: k128, ExplicitCache: true, Created: 1709149158, Status: StatusActive, Providers: moonshotOnly},
	// The auto router picks 8k, 32k or 128k by request size; its largest
	// window is what bounds a request.
	{ID: "moonshot-v1-auto", Family: FamilyMoonshotV1, ContextWindow: k128, ExplicitCache: true, Created: 1723000000, Status: StatusActive, Providers: moonshotOnly},
	{ID: "moonshot-v1-8k-vision-preview", Family: FamilyMoonshotV1, ContextWindow: k8, ImageInput: true, Created: 1736000000, Status: StatusPreview, Providers: moonshotOnly},
	{ID: "moonshot-v1-32k-vision-preview", Family: FamilyMoonshotV1, ContextWindow: k32, ImageInput: true, Created: 1736000000, Status: StatusPreview, Providers: moonshotOnly},
	{ID: "moonshot-v1-128k-vision-preview", Family: FamilyMoonshotV1, ContextWindow: k128, ImageInput: true, Created: 1736000000, Status: StatusPreview, Providers: moonshotOnly},
	{ID: "kimi-k2.5", Family: FamilyK25, ContextWindow: k256, ImageInput: true, VideoInput: true, Batch: true, Created: 1769000000, Status: StatusActive, Providers: moonshotAce},
	{ID: "kimi-k2.6", Family: FamilyK26, ContextWindow: k256, ImageInput: true, VideoInput: true, Batch: true, Created: 1776643200, Status: StatusActive, Providers: moonshotOnly},
	{ID: "kimi-k2.7-code", Family: FamilyK27, ContextWindow: k256, ImageInput: true, VideoInput: true, Created: 1781481600, Status: StatusActive, Providers: moonshotOnly},
	// The same model, served faster at twice the price.
	{ID: "kimi-k2.7-code-highspeed", Family: FamilyK27, ContextWindow: k256, ImageInput: true, VideoInput: true, Created: 1781481600, Status: StatusActive, Providers: moonshotOnly},
	{ID: "kimi-k3", Family: FamilyK3, ContextWindow: k1m, ImageInput: true, VideoInput: true, Created: 1784160000, Status: StatusActive, Providers: moonshotAce},
	// Ace Data Cloud's name for the open K2 instruct weights of 2025-09;
	// Moonshot's platform does not list it. Window and date unknown.
	{ID: "kimi-k2-instruct-0905", Family: FamilyK2, Status: StatusActive, Providers: aceOnly},

	// Retired on Moonshot's platform. kimi-latest and
	// kimi-thinking-preview have no announced date: no 2026 source lists
	// them.
	{ID: "kimi-k2-0711-preview", Family: FamilyK2, ContextWindow: k128, Created: 1752192000, Status: StatusRetired, RetiresOn: k2Retired, Providers: nowhere},
	{ID: "kimi-k2-0905-preview", Family: FamilyK2, ContextWindow: k256, Created: 1757030400, Status: StatusRetired, RetiresOn: k2Retired, Providers: nowhere},
	{ID: "kimi-k2-turbo-preview", Family: FamilyK2, ContextWindow: k256, Created: 1754000000, Status: StatusRetired, RetiresOn: k2Retired, Providers: nowhere},
	{ID: "kimi-k2-thinking", Family: FamilyK2Thinking, ContextWindow: k256, Created: 1762387200, Status: StatusRetired, RetiresOn: k2Retired, Providers: aceOnly},
	{ID: "kimi-k2-thinking-turbo", Family: FamilyK2Thinking, ContextWindow: k256, Created: 1762387200, Status: StatusRetired, RetiresOn: k2Retired, Providers: aceOnly},
	{ID: "kimi-latest", Family: FamilyKimiLatest, ContextWindow: k128, ImageInput: true, Created: 1739000000, Status: StatusRetired, Providers: nowhere},
	{ID: "kimi-thinking-preview", Family: FamilyThinkingPreview, ContextWindow: k128, ImageInput: true, Created: 1741000000, Status: StatusRetired, Providers: nowhere},
}

// documentQA is the document Q&A ladder, smallest window first: the
// moonshot-v1 text models of fixed size.
var documentQA = []string{"moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k"}

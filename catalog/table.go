package catalog

// Context windows, in tokens.
const (
	k8   = 8192
	k32  = 32768
	k128 = 131072
	k256 = 262144
)

// Provider sets of the table's entries.
var (
	moonshotOnly = []string{ProviderMoonshot}
	moonshotAce  = []string{ProviderMoonshot, ProviderAceData}
	aceOnly      = []string{ProviderAceData}
)

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
		FixedSampling: true,
		Tools:         true, AutoCache: true, ToolCallIDs: ToolCallIDQualified,
	},
}

// models is the table: one entry per model id, in the order GET /models
// of the emulator lists them. Windows and input kinds follow the model
// list at https://platform.moonshot.cn/docs/intro; Created is the value
// GET /models reports. Ace Data Cloud's Kimi endpoint offers the K2 and
// K2.5 models marked acedata, plus its own kimi-k2-instruct-0905.
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
	{ID: "kimi-latest", Family: FamilyKimiLatest, ContextWindow: k128, ImageInput: true, Created: 1739000000, Status: StatusActive, Providers: moonshotOnly},
	{ID: "kimi-thinking-preview", Family: FamilyThinkingPreview, ContextWindow: k128, ImageInput: true, Created: 1741000000, Status: StatusPreview, Providers: moonshotOnly},
	{ID: "kimi-k2-0711-preview", Family: FamilyK2, ContextWindow: k128, Created: 1752192000, Status: StatusPreview, Providers: moonshotAce},
	{ID: "kimi-k2-0905-preview", Family: FamilyK2, ContextWindow: k256, Created: 1757030400, Status: StatusPreview, Providers: moonshotAce},
	{ID: "kimi-k2-turbo-preview", Family: FamilyK2, ContextWindow: k256, Created: 1754000000, Status: StatusPreview, Providers: moonshotAce},
	{ID: "kimi-k2-thinking", Family: FamilyK2Thinking, ContextWindow: k256, Created: 1762387200, Status: StatusActive, Providers: moonshotAce},
	{ID: "kimi-k2-thinking-turbo", Family: FamilyK2Thinking, ContextWindow: k256, Created: 1762387200, Status: StatusActive, Providers: moonshotAce},
	{ID: "kimi-k2.5", Family: FamilyK25, ContextWindow: k256, ImageInput: true, VideoInput: true, Created: 1769000000, Status: StatusActive, Providers: moonshotAce},
	// Ace Data Cloud's name for the open K2 instruct weights of 2025-09;
	// Moonshot's platform does not list it. Window and date unknown.
	{ID: "kimi-k2-instruct-0905", Family: FamilyK2, Status: StatusActive, Providers: aceOnly},
}

// documentQA is the document Q&A ladder, smallest window first: the
// moonshot-v1 text models of fixed size.
var documentQA = []string{"moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k"}

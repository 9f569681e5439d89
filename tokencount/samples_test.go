package tokencount

// The calibration and accuracy sample set. The texts are varied on purpose:
// short chat turns, long Chinese and English prose, code, JSON, Japanese,
// Korean, German, numbers, URLs, emoji and mixes. Texts marked "(API
// reference)" come from Moonshot's chat API reference
// (https://platform.moonshot.cn/docs/api/chat), "(guide)" from a Chinese
// guide to calling Kimi with the openai Python client that quotes
// Moonshot's documentation, "(Ace Data Cloud)" from that provider's Kimi
// documentation; all are verbatim.

type textSample struct {
	name string
	text string
}

// kimiSystemPrompt is the system prompt of the API reference's examples,
// as the guide copied it (ASCII commas where Moonshot's page has
// full-width ones).
const kimiSystemPrompt = "你是 Kimi,由 Moonshot AI 提供的人工智能助手,你更擅长中文和英文的对话。你会为用户提供安全,有帮助,准确的回答。同时,你会拒绝一切涉及恐怖主义,种族歧视,黄色暴力等问题的回答。Moonshot AI 为专有名词,不可翻译成其他语言。"

var textSamples = []textSample{
	{"zh-greeting", "你好"},
	{"zh-lilei (API reference user)", "你好，我叫李雷，1+1等于多少？"},
	{"zh-system-prompt (guide)", kimiSystemPrompt},
	{"zh-paragraph (guide)", "Moonshot的文本生成模型(指moonshot-v1)是一个训练有素的模型,专门用于理解自然语言和书面语言。它能够根据输入(prompt)生成文本输出。文本生成模型可以用于多种任务,包括但不限于内容或代码生成、摘要、对话、创意写作等。语言模型推理服务则是在其基础上开发和训练的预训练模型的 API 服务。对外主要提供了一个 Chat Completions 接口,它可以用于生成文本,但是它本身是不支持访问网络、数据库等外部资源,也不支持执行任何代码。"},
	{"zh-long-prose", "在北京预订一家意大利餐厅是个不错的选择，因为北京有很多优质的意大利餐厅。首先，确定你愿意为这顿饭花费多少钱，以及你偏爱的意大利菜式，比如披萨、意面、海鲜等。其次，使用搜索引擎或美食预订平台搜索，这些平台通常会有用户评价和推荐。阅读餐厅的评价和评论，可以帮助你了解餐厅的口碑和食物质量。一些餐厅可能提供在线预订服务，你可以通过它们的官网或者第三方平台进行预订；如果没有在线服务，你可以尝试直接打电话预订。选择一家地理位置方便的餐厅，特别是如果你计划在特定活动或场合后用餐。周六晚上是餐厅的高峰时段，因此提前预订是明智的选择。在预订后，确保收到确认信息，并且在用餐前再次确认预订细节。"},
	{"zh-list (guide)", "1. **意库意大利餐厅**:位于朝阳区,以其正宗的意大利风味和优雅的环境而闻名。\n\n2. **意大利农场**:位于顺义区,提供新鲜食材制作的意大利菜肴,环境舒适,适合家庭聚餐。\n\n3. **La Mezzaluna 半月堂**:位于朝阳区,以精致的意大利美食和优雅的就餐环境著称。"},
	{"zh-question", "地球的自转周期是多少？月球呢？"},
	{"en-chat", "What's the weather like in Paris today?"},
	{"en-prose", "Tokenizers split text into pieces that a language model can process. Modern byte-pair encodings learn their vocabulary from a large corpus, so common English words usually become a single token, while rare words, names and numbers are broken into several pieces. As a rule of thumb, one token is about four characters of English text, or roughly three quarters of a word."},
	{"en-instructions", "You are a helpful assistant. Answer concisely, cite your sources, and never invent facts. If you do not know the answer, say so."},
	{"de-prose (Ace Data Cloud)", "Kimi ist ein von Ace Data Cloud bereitgestellter AI-Chat-Service, basierend auf der Kimi-Serie großer Sprachmodelle. Über die einheitliche API von Ace Data Cloud können Sie Kimi mit Python schnell integrieren."},
	{"ja-prose", "東京は日本の首都で、人口はおよそ千四百万人です。美しい桜の季節には、多くの観光客が上野公園を訪れます。"},
	{"ko-prose", "안녕하세요, 저는 서울에 사는 학생입니다. 오늘 날씨가 정말 좋네요."},
	{"go-code", "func (c *Client) Chat(ctx context.Context, req *Request) (*Response, error) {\n\tbody, err := json.Marshal(req)\n\tif err != nil {\n\t\treturn nil, fmt.Errorf(\"marshal: %w\", err)\n\t}\n\treturn c.do(ctx, http.MethodPost, \"/chat/completions\", body)\n}\n"},
	{"py-code (guide)", "from openai import OpenAI\n\nclient = OpenAI(\n    api_key=\"sk-*********\",\n    base_url=\"https://api.moonshot.cn/v1\",\n)\n\ncompletion = client.chat.completions.create(\n    model=\"moonshot-v1-8k\",\n    messages=history,\n    temperature=0.3,\n)\n"},
	{"json-args", `{"city":"Beijing","unit":"celsius","days":3,"include_hourly":false}`},
	{"json-pretty", "{\n  \"id\": \"cmpl-04ea926191a14749b7f2c7a48a68abc6\",\n  \"object\": \"chat.completion\",\n  \"created\": 1698999496,\n  \"model\": \"moonshot-v1-8k\"\n}"},
	{"numbers", "2024-03-28 12:34:56 — total: 1,234,567.89 CNY; rate 3.14159; ids 100200300, 400500600."},
	{"url-email", "See https://platform.moonshot.cn/docs/api/chat#request or write to support@moonshot.cn for help."},
	{"emoji-chat", "太棒了🎉！Thanks a lot 😊👍 see you tomorrow 🌙"},
	{"mixed-tech", "请用 Python 写一个 quicksort 函数，并解释为什么平均时间复杂度是 O(n log n)，最坏情况又是 O(n^2)。"},
	{"mixed-api (guide)", "对网关,出于方便考虑,会基于请求中的 max_tokens 参数来计算速率限制。这意味着,如果你的请求中包含了 max_tokens 参数,会使用这个参数来计算速率限制。如果你的请求中没有包含 max_tokens 参数,则会使用默认的 max_tokens 参数来计算速率限制。"},
	{"markdown-mixed (guide)", "## 基本使用\n\n### 1. 初始化请求\n\n要使用Kimi API,您需要发送HTTP请求到指定的端点。以下是一个基本的请求示例:\n\n```http\nPOST /api/v1/kimi\nHost: api.moonshot.ai\nAuthorization: Bearer YOUR_API_KEY\nContent-Type: application/json\n```\n"},
}

// conversation is a request-level sample: messages plus optional tool
// definitions, written both as tokencount input and (by requestBody) as
// the chat request body the emulator counts. A tool call is written as
// its function name, a space and its arguments.
type conversation struct {
	name  string
	msgs  []Message
	tools string // JSON array of tool definitions, or ""
}

const weatherTools = `[{"type":"function","function":{"name":"get_weather","description":"查询某个城市未来几天的天气预报","parameters":{"type":"object","properties":{"city":{"type":"string","description":"城市名，例如 北京"},"days":{"type":"integer","description":"预报天数，1 到 7"}},"required":["city"]}}}]`

var conversations = []conversation{
	{name: "lilei (API reference)", msgs: []Message{
		{Role: "system", Content: kimiSystemPrompt},
		{Role: "user", Content: "你好，我叫李雷，1+1等于多少？"},
	}},
	{name: "user only", msgs: []Message{
		{Role: "user", Content: "你好，我叫李雷，1+1等于多少？"},
	}},
	{name: "en short", msgs: []Message{
		{Role: "system", Content: "You are a helpful assistant."},
		{Role: "user", Content: "What's the weather like in Paris today?"},
	}},
	{name: "multi-turn zh (API reference)", msgs: []Message{
		{Role: "system", Content: kimiSystemPrompt},
		{Role: "user", Content: "地球的自转周期是多少？"},
		{Role: "assistant", Content: "地球的自转周期约为23小时56分4秒，这被称为一个恒星日。我们日常使用的24小时是太阳日。"},
		{Role: "user", Content: "月球呢？"},
	}},
	{name: "tool call round trip", tools: weatherTools, msgs: []Message{
		{Role: "user", Content: "北京明天天气怎么样？"},
		{Role: "assistant", ToolCalls: []string{`get_weather {"city":"北京","days":1}`}},
		{Role: "tool", Name: "get_weather", Content: `{"city":"北京","forecast":[{"date":"2024-03-29","high":18,"low":6,"weather":"晴"}]}`},
	}},
	{name: "thinking turn", msgs: []Message{
		{Role: "user", Content: "Is 1,000,003 a prime number?"},
		{Role: "assistant", ReasoningContent: "We need to test divisibility by primes up to about 1000. It is odd, the digit sum is 4 so not divisible by 3, it does not end in 0 or 5.", Content: "Yes. 1,000,003 is prime."},
		{Role: "user", Content: "Prove it briefly."},
	}},
	{name: "code review", msgs: []Message{
		{Role: "system", Content: "You are a senior Go reviewer. Reply in Chinese."},
		{Role: "user", Content: "请审查这段代码：\n" + "func (c *Client) Chat(ctx context.Context, req *Request) (*Response, error) {\n\tbody, err := json.Marshal(req)\n\tif err != nil {\n\t\treturn nil, fmt.Errorf(\"marshal: %w\", err)\n\t}\n\treturn c.do(ctx, http.MethodPost, \"/chat/completions\", body)\n}\n"},
	}},
	{name: "long mixed document", msgs: []Message{
		{Role: "system", Content: kimiSystemPrompt},
		{Role: "system", Content: "Moonshot的文本生成模型(指moonshot-v1)是一个训练有素的模型,专门用于理解自然语言和书面语言。它能够根据输入(prompt)生成文本输出。Tokenizers split text into pieces that a language model can process. Modern byte-pair encodings learn their vocabulary from a large corpus."},
		{Role: "user", Content: "请简单介绍这份文件讲了啥"},
	}},
}

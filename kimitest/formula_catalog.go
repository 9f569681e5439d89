package kimitest

// The official formula catalogue, served by GET /v1/formulas/{uri}/tools
// (https://platform.moonshot.ai/docs/guide/use-official-tools). The
// entries are the platform's JSON verbatim, in its key order ("function"
// before "type"; name, description, parameters inside "function"), so a
// client appending them to a chat request sends what it would send live.

// formulaCatalog maps a formula name (the URI's name part) to its tool
// entries. The excel entry is a _plugin (formula_excel.go).
var formulaCatalog = map[string][]string{
	"web-search": {
		`{"function":{"name":"web_search","description":"用于信息检索的网络搜索","parameters":{"properties":{"classes":{"description":"要关注的搜索领域。如果未指定，则默认为 'all'。","items":{"enum":["all","academic","social","library","finance","code","ecommerce","medical"],"type":"string"},"type":"array"},"query":{"description":"要搜索的内容","type":"string"}},"required":["query"],"type":"object"}},"type":"function"}`,
	},
	"convert": {
		`{"function":{"name":"convert","description":"支持长度、质量、体积、温度、面积、时间、能量、压力、速度和货币的单位换算。提供了一些单位和别名。","parameters":{"properties":{"from_unit":{"description":"源单位（如 m, meter, cm, inch, ft, kg, gram, pound, oz, °C, degC, K, °F, USD, EUR, joule, pascal, bar, second, minute, hour, km/h, mph, m^2, acre, hectare, floz）","type":"string"},"to_unit":{"description":"目标单位，要求同 from_unit","type":"string"},"value":{"description":"要转换的数值","type":"number"}},"required":["value","from_unit","to_unit"],"type":"object"}},"type":"function"}`,
	},
	"rethink": {
		`{"function":{"name":"rethink","description":"You can use this tool to organize your thoughts, including but not limited to: 1) listing the specific rules that apply to the current task, 2) making a plan or to-do list for yourself, 3) organizing your thoughts and the collected information, and 4) thinking step by step about your next action—or simply pausing to reflect further. This tool does not return any information; it’s just for organizing your own thoughts.","parameters":{"properties":{"thought":{"description":"The thought you want to consider to better solve the current task.","type":"string"}},"required":["thought"],"type":"object"}},"type":"function"}`,
	},
	"random-choice": {
		`{"function":{"name":"random_choice","description":"随机选择工具，支持从候选项中随机选择指定数量的项目，可选择是否放回，支持加权选择","parameters":{"properties":{"candidates":{"description":"候选项列表，必须是字符串数组","items":{"type":"string"},"type":"array"},"count":{"default":1,"description":"选择数量，默认为1","type":"integer"},"format":{"default":"simple","description":"输出格式：simple（简单列表）, detailed（详细信息）, json（JSON格式）","enum":["simple","detailed","json"],"type":"string"},"replace":{"default":false,"description":"是否放回（允许重复选择），默认为false","type":"boolean"},"seed":{"description":"随机种子，用于可重现的随机结果","type":"integer"},"weights":{"description":"权重列表，与candidates对应，用于加权随机选择","items":{"type":"number"},"type":"array"}},"required":["candidates"],"type":"object"}},"type":"function"}`,
	},
	"mew": {
		`{"function":{"name":"mew_generator","description":"随机产生猫的叫声，附带一个祝福","parameters":{"properties":{"mood":{"description":"猫咪的心情 (happy, sleepy, hungry, playful, grumpy)","enum":["happy","sleepy","hungry","playful","grumpy"],"type":"string"}},"required":[],"type":"object"}},"type":"function"}`,
	},
	"memory": {
		`{"function":{"name":"memory","description":"记忆存储和检索系统，支持对话历史、用户偏好等数据的持久化","parameters":{"properties":{"action":{"description":"操作类型：store(存储), retrieve(检索), delete(删除), list(列表)","enum":["store","retrieve","delete","list"],"type":"string"},"data":{"description":"要存储的数据内容","type":"object"},"key":{"description":"存储键名，用于标识记忆","type":"string"},"prefix":{"description":"用于list操作的键前缀","type":"string"},"ttl":{"default":86400,"description":"数据过期时间（秒），默认86400（24小时）","type":"integer"}},"required":["action"],"type":"object"}},"type":"function"}`,
	},
	"excel": {excelPluginJSON},
	// date, base64 and fetch: no capture of their live schemas is public,
	// so these are reconstructed from the documented parameters (fetch
	// after the MCP fetch server its description comes from).
	"date": {
		`{"function":{"name":"date","description":"日期和时间工具：获取当前时间、时区转换、计算两个日期之间的天数、日期加减天数","parameters":{"properties":{"date":{"description":"日期时间字符串（convert、add、subtract 操作使用），格式同 format","type":"string"},"date1":{"description":"第一个日期（between 操作使用）","type":"string"},"date2":{"description":"第二个日期（between 操作使用）","type":"string"},"days":{"description":"要加上或减去的天数（add、subtract 操作使用）","type":"integer"},"format":{"default":"%Y-%m-%d %H:%M:%S","description":"日期格式（Python strftime 格式），默认 %Y-%m-%d %H:%M:%S","type":"string"},"from_zone":{"description":"源时区（convert 操作使用），如 Asia/Shanghai","type":"string"},"operation":{"description":"操作类型：time(当前时间), convert(时区转换), between(日期间隔), add(加天数), subtract(减天数)","enum":["time","convert","between","add","subtract"],"type":"string"},"to_zone":{"description":"目标时区（convert 操作使用），如 America/New_York","type":"string"},"zone":{"description":"时区（time 操作使用），如 Asia/Shanghai，默认 UTC","type":"string"}},"required":["operation"],"type":"object"}},"type":"function"}`,
	},
	"base64": {
		`{"function":{"name":"base64_encode","description":"将文本编码为 Base64","parameters":{"properties":{"data":{"description":"要编码的文本","type":"string"},"encoding":{"default":"utf-8","description":"字符编码，默认 utf-8","type":"string"}},"required":["data"],"type":"object"}},"type":"function"}`,
		`{"function":{"name":"base64_decode","description":"将 Base64 解码为文本","parameters":{"properties":{"data":{"description":"要解码的 Base64 字符串","type":"string"},"encoding":{"default":"utf-8","description":"字符编码，默认 utf-8","type":"string"}},"required":["data"],"type":"object"}},"type":"function"}`,
	},
	"fetch": {
		`{"function":{"name":"fetch","description":"Fetches a URL from the internet and optionally extracts its contents as markdown.\n\nAlthough originally you did not have internet access, and were advised to refuse and tell the user this, this tool now grants you internet access. Now you can fetch the most up-to-date information and let the user know that.","parameters":{"properties":{"max_length":{"default":5000,"description":"Maximum number of characters to return.","exclusiveMaximum":1000000,"exclusiveMinimum":0,"title":"Max Length","type":"integer"},"raw":{"default":false,"description":"Get the actual HTML content of the requested page, without simplification.","title":"Raw","type":"boolean"},"start_index":{"default":0,"description":"On return, output will start at this character index, useful if a previous fetch was truncated and more context is required.","minimum":0,"title":"Start Index","type":"integer"},"url":{"description":"URL to fetch","format":"uri","minLength":1,"title":"Url","type":"string"}},"required":["url"],"type":"object"}},"type":"function"}`,
	},
}

package kimitest

import (
	"strings"
	"testing"
)

// The first bytes of media files, enough for sniffing.
var (
	pngBytes  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")
	jpegBytes = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01")
	gifBytes  = []byte("GIF89a\x01\x00\x01\x00")
	webpBytes = []byte("RIFF\x1a\x00\x00\x00WEBPVP8 \x0e\x00\x00\x00")
	bmpBytes  = []byte("BM\x1e\x00\x00\x00\x00\x00\x00\x00\x1a\x00\x00\x00")
	mp4Bytes  = []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
	movBytes  = []byte("\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ")
	webmBytes = []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01")
	aviBytes  = []byte("RIFF\x00\x00\x00\x00AVI LIST")
)

func imagePart(url string) map[string]any {
	return map[string]any{"type": "image_url", "image_url": map[string]any{"url": url}}
}

func videoPart(url string) map[string]any {
	return map[string]any{"type": "video_url", "video_url": url} // the string form
}

func mediaMsg(parts ...map[string]any) []map[string]any {
	content := []any{map[string]any{"type": "text", "text": "What is this?"}}
	for _, p := range parts {
		content = append(content, p)
	}
	return msgs(map[string]any{"role": "user", "content": content})
}

// Uploads for image and video are checked by their bytes.
func TestUploadMediaFormats(t *testing.T) {
	srv := setup(t)
	for _, c := range []struct {
		name, purpose string
		data          []byte
		refused       string // "" when accepted
	}{
		{"png", "image", pngBytes, ""},
		{"jpeg", "image", jpegBytes, ""},
		{"gif", "image", gifBytes, ""},
		{"webp", "image", webpBytes, ""},
		{"bmp", "image", bmpBytes, "Invalid request: unsupported image format: image/bmp"},
		{"text as image", "image", []byte("just text"), "Invalid request: unsupported image format: text/plain"},
		{"video as image", "image", mp4Bytes, "Invalid request: unsupported image format: video/mp4"},
		{"mp4", "video", mp4Bytes, ""},
		{"mov", "video", movBytes, ""},
		{"webm", "video", webmBytes, ""},
		{"avi", "video", aviBytes, ""},
		{"image as video", "video", pngBytes, "Invalid request: unsupported video format: image/png"},
		{"binary as video", "video", []byte{0, 1, 2, 3}, "Invalid request: unsupported video format: application/octet-stream"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := upload(t, srv, "f.bin", c.purpose, c.data)
			if c.refused != "" {
				wantAPIError(t, r, 400, "invalid_request_error", c.refused)
				return
			}
			if f := decodeOK[wireFile](t, r); f.Purpose != c.purpose || f.Status != "ok" {
				t.Fatalf("%+v", f)
			}
		})
	}
	// Refused uploads are not stored; the purpose may follow the file.
	body, ct := multipartBody(t, "x.txt", formField{"file", "not an image"}, formField{"purpose", "image"})
	wantAPIError(t, uploadRaw(t, srv, body, ct), 400, "invalid_request_error", "Invalid request: unsupported image format: text/plain")
	if n := len(listFiles(t, srv)); n != 8 {
		t.Fatalf("%d files stored, want the 8 accepted", n)
	}
}

// Media parts: the model must take them, the URL must be a data URL of a
// known format or an ms:// reference to the account's own image or video
// file; http(s) URLs are refused.
func TestChatMedia(t *testing.T) {
	srv := setup(t, WithKey("sk-a"), WithKey("sk-b"))
	img := mustUpload(t, srv, "cat.png", "image", pngBytes).ID
	vid := mustUpload(t, srv, "clip.mp4", "video", mp4Bytes).ID
	doc := mustUpload(t, srv, "notes.txt", "file-extract", []byte("notes")).ID
	other := mustUpload(t, srv.withKey("sk-b"), "dog.png", "image", pngBytes).ID
	png := "data:image/png;base64,iVBORw0KGgo="

	for _, body := range []map[string]any{
		{"model": "kimi-k2.6", "messages": mediaMsg(imagePart(png), imagePart("ms://"+img), videoPart("ms://"+vid))},
		{"model": "kimi-k3", "messages": mediaMsg(imagePart("data:image/jpg;base64,/9j/"), imagePart("DATA:IMAGE/WEBP;base64,UklG"),
			videoPart("data:video/mp4;base64,AAAA"), videoPart("data:video/quicktime;base64,AAAA"))},
		{"model": "moonshot-v1-8k-vision-preview", "messages": mediaMsg(imagePart("data:image/gif;base64,R0lG"))},
	} {
		chat(t, srv, body)
	}

	bad := func(model string, part map[string]any, msg string) {
		t.Helper()
		wantAPIError(t, postChat(t, srv, map[string]any{"model": model, "messages": mediaMsg(part)}), 400, "invalid_request_error", msg)
	}
	bad("moonshot-v1-8k", imagePart(png), "Invalid request: model moonshot-v1-8k does not support image input")
	bad("moonshot-v1-8k-vision-preview", videoPart("ms://"+vid), "Invalid request: model moonshot-v1-8k-vision-preview does not support video input")
	bad("kimi-k2.6", imagePart("https://example.com/cat.png"),
		"unsupported image url: only base64 data urls (data:image/<format>;base64,...) and ms://<file_id> references are supported")
	bad("kimi-k2.6", videoPart("http://example.com/clip.mp4"),
		"unsupported video url: only base64 data urls (data:video/<format>;base64,...) and ms://<file_id> references are supported")
	bad("kimi-k2.6", imagePart("cat.png"),
		"unsupported image url: only base64 data urls (data:image/<format>;base64,...) and ms://<file_id> references are supported")
	bad("kimi-k2.6", imagePart("data:image/bmp;base64,Qk0="), "Invalid request: unsupported image format: image/bmp")
	bad("kimi-k2.6", imagePart("data:image/svg+xml,<svg/>"), "Invalid request: unsupported image format: image/svg+xml")
	bad("kimi-k2.6", videoPart("data:video/x-matroska;base64,GkXf"), "Invalid request: unsupported video format: video/x-matroska")
	bad("kimi-k2.6", imagePart("data:"+strings.Repeat("x", 500)), "Invalid request: unsupported image format: "+strings.Repeat("x", 100)+"…")
	bad("kimi-k2.6", imagePart("ms://nope"), "Invalid request: not found the file nope or Permission denied")
	bad("kimi-k2.6", imagePart("ms://"+other), "Invalid request: not found the file "+other+" or Permission denied")
	bad("kimi-k2.6", imagePart("ms://"+vid), "Invalid request: file "+vid+" has purpose video, a image_url needs a file uploaded with purpose image")
	bad("kimi-k2.6", videoPart("ms://"+doc), "Invalid request: file "+doc+" has purpose file-extract, a video_url needs a file uploaded with purpose video")
	// The other account's own file is fine for it.
	chat(t, srv.withKey("sk-b"), map[string]any{"model": "kimi-k2.5", "messages": mediaMsg(imagePart("ms://" + other))})

	// The estimate checks media as chat does.
	r := ktDo(t, srv, "POST", "/v1/tokenizers/estimate-token-count", map[string]any{"model": "moonshot-v1-8k", "messages": mediaMsg(imagePart(png))})
	wantAPIError(t, r, 400, "invalid_request_error", "Invalid request: model moonshot-v1-8k does not support image input")
}

// A data URL written with escaped slashes (as some JSON encoders do) is
// read like any other.
func TestChatMediaEscapedURL(t *testing.T) {
	srv := setup(t)
	body := `{"model":"kimi-k2.6","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image\/png;base64,iVBO\/w=="}}]}]}`
	decodeChat(t, postChat(t, srv, body))
	body = strings.Replace(body, `image\/png`, `image\/bmp`, 1)
	wantAPIError(t, postChat(t, srv, body), 400, "invalid_request_error", "Invalid request: unsupported image format: image/bmp")
}

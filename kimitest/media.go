package kimitest

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Image and video content parts (image_url, video_url; the object form
// {"url":…} or the URL string). A model takes them only with ImageIn or
// VideoIn. The URL is either
//
//   - a base64 data URL, data:image/<format>;base64,… (png, jpeg, webp,
//     gif; "jpg" too, as clients build the type from the file extension)
//     or data:video/<format>;base64,… (mp4, mpeg, mov, avi, x-flv, mpg,
//     webm, wmv, 3gpp), whose payload is not decoded; or
//   - ms://<file_id>, a file the same account uploaded with purpose image
//     (image_url) or video (video_url). Another account's file is unknown.
//
// Moonshot does not fetch http(s) media, so any other URL is refused. An
// image costs tokensPerImage, a video tokensPerVideo (tokens.go), however
// it is sent.
//
// Uploads with purpose image or video are checked by their first bytes,
// not by the name or the part's Content-Type, which clients often leave
// generic: an image must be PNG, JPEG, WebP or GIF, a video one of the
// formats above.

// mediaTypes are the accepted media types of data URLs, by kind.
var mediaTypes = map[string]map[string]bool{
	"image": {"image/png": true, "image/jpeg": true, "image/jpg": true, "image/webp": true, "image/gif": true},
	"video": {"video/mp4": true, "video/mpeg": true, "video/mpg": true, "video/mov": true, "video/quicktime": true,
		"video/avi": true, "video/x-msvideo": true, "video/x-flv": true, "video/webm": true,
		"video/wmv": true, "video/x-ms-wmv": true, "video/3gpp": true},
}

// maxQuotedMIME bounds what an error quotes of the request (a media type,
// a file id, a field name): a malformed data URL may have no ";" or ","
// for megabytes.
const maxQuotedMIME = 100

// checkMedia checks every image and video part of msgs against the model
// and the account's files.
func checkMedia(msgs []message, m ModelSpec, files *fileStore) *apiError {
	for _, msg := range msgs {
		for _, p := range msg.parts {
			var kind string
			switch p.Type {
			case "image_url":
				kind = "image"
				if !m.ImageIn {
					return errMediaInput(m.ID, kind)
				}
			case "video_url":
				kind = "video"
				if !m.VideoIn {
					return errMediaInput(m.ID, kind)
				}
			default:
				continue
			}
			if aerr := checkMediaURL(kind, p.url, files); aerr != nil {
				return aerr
			}
		}
	}
	return nil
}

// checkMediaURL checks the URL of one part of kind "image" or "video".
func checkMediaURL(kind string, u []byte, files *fileStore) *apiError {
	switch {
	case hasPrefixFold(u, "data:"):
		rest := u[len("data:"):]
		end := bytes.IndexAny(rest, ";,")
		if end < 0 {
			end = len(rest)
		}
		mt := strings.ToLower(strings.TrimSpace(string(rest[:min(end, maxQuotedMIME)])))
		if end > maxQuotedMIME {
			mt += "…"
		}
		if !mediaTypes[kind][mt] {
			return errMediaFormat(kind, mt)
		}
	case hasPrefixFold(u, "ms://"):
		id := string(u[len("ms://"):])
		if len(id) > maxQuotedMIME {
			return errMediaFile(id[:maxQuotedMIME] + "…")
		}
		f := files.get(id)
		if f == nil {
			return errMediaFile(id)
		}
		if f.purpose != kind {
			return errMediaPurpose(id, f.purpose, kind)
		}
	default:
		return errMediaURL(kind)
	}
	return nil
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}

// sniffLen is how much of a file media sniffing reads.
const sniffLen = 512

// checkUploadMedia checks that the file of an image or video upload is
// of a format Kimi takes; other purposes pass.
func checkUploadMedia(purpose string, data *blob) *apiError {
	if purpose != "image" && purpose != "video" {
		return nil
	}
	rd, err := data.open()
	if err != nil {
		return errServer("failed to read file")
	}
	defer rd.Close()
	head := make([]byte, sniffLen)
	n, _ := io.ReadFull(rd, head)
	mt := sniffMedia(head[:n])
	if !mediaTypes[purpose][mt] {
		return errMediaFormat(purpose, mt)
	}
	return nil
}

// sniffMedia names the media type of a file by its first bytes: the
// video containers net/http does not know, then http.DetectContentType
// (without parameters).
func sniffMedia(head []byte) string {
	switch {
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		switch brand := string(head[8:12]); {
		case brand == "qt  ":
			return "video/quicktime"
		case strings.HasPrefix(brand, "3g"):
			return "video/3gpp"
		}
		return "video/mp4"
	case bytes.HasPrefix(head, []byte{0x1a, 0x45, 0xdf, 0xa3}):
		return "video/webm"
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "AVI ":
		return "video/x-msvideo"
	case bytes.HasPrefix(head, []byte("FLV\x01")):
		return "video/x-flv"
	case bytes.HasPrefix(head, []byte{0, 0, 1, 0xba}), bytes.HasPrefix(head, []byte{0, 0, 1, 0xb3}):
		return "video/mpeg"
	case bytes.HasPrefix(head, []byte{0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11}):
		return "video/x-ms-wmv"
	}
	mt, _, err := mime.ParseMediaType(http.DetectContentType(head))
	if err != nil {
		return "application/octet-stream"
	}
	return mt
}

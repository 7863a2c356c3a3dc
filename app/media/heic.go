package media

import (
	"context"
	"os"
	"path/filepath"
)

// heicToJPEG converts a HEIC/HEIF photo with an external tool, since Go has
// no HEVC decoder: heif-convert (libheif) when installed, else ffmpeg, which
// reads HEIF only from version 7.1 on. Both apply the HEIF rotation; the
// caller re-encodes the output, which drops whatever metadata the tool
// copied. done removes the converted file.
func heicToJPEG(ctx context.Context, src, declared string) (out string, done func(), err error) {
	dir, err := os.MkdirTemp("", "storykeep-heic-*")
	if err != nil {
		return "", nil, err
	}
	done = func() { os.RemoveAll(dir) }
	out = filepath.Join(dir, "out.jpg")
	if haveTool("heif-convert") {
		_, err = runTool(ctx, "heif-convert", "-q", "95", src, out)
	} else {
		_, err = runTool(ctx, "ffmpeg", "-nostdin", "-v", "error", "-i", src,
			"-frames:v", "1", "-map_metadata", "-1", "-c:v", "mjpeg", "-q:v", "2", "-f", "image2", out)
	}
	if err != nil {
		done()
		if cerr := ctx.Err(); cerr != nil {
			return "", nil, cerr
		}
		return "", nil, reject(ReasonUnsupported, "%s is a HEIC photo, which this server cannot convert. "+
			"Please upload it as a JPEG (on an iPhone: Settings › Camera › Formats › Most Compatible).", subject(declared))
	}
	return out, done, nil
}

package media

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// probed is what ffprobe tells about a recording.
type probed struct {
	duration      time.Duration
	width, height int // display size of the first real video stream
	hasVideo      bool
}

// ffprobe reads a local file; the file must be seekable because phones put
// the MP4 index (moov) at the end.
func ffprobe(ctx context.Context, path string) (probed, error) {
	out, err := runTool(ctx, "ffprobe", "-v", "error", "-print_format", "json", "-show_entries",
		"format=duration:stream=codec_type,width,height:stream_tags=rotate:stream_side_data=rotation:stream_disposition=attached_pic",
		path)
	if err != nil {
		return probed{}, err
	}
	var doc struct {
		Streams []struct {
			CodecType   string            `json:"codec_type"`
			Width       int               `json:"width"`
			Height      int               `json:"height"`
			Tags        map[string]string `json:"tags"`
			Disposition map[string]int    `json:"disposition"`
			SideData    []struct {
				Rotation float64 `json:"rotation"`
			} `json:"side_data_list"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return probed{}, fmt.Errorf("media: ffprobe output: %w", err)
	}
	if len(doc.Streams) == 0 {
		return probed{}, fmt.Errorf("media: ffprobe found no streams")
	}
	var p probed
	if secs, err := strconv.ParseFloat(doc.Format.Duration, 64); err == nil && secs > 0 && !math.IsInf(secs, 0) {
		p.duration = time.Duration(secs * float64(time.Second)).Round(time.Millisecond)
	}
	for _, s := range doc.Streams {
		if s.CodecType != "video" || s.Disposition["attached_pic"] == 1 || p.hasVideo {
			continue // cover art in audio files is a "video" stream too
		}
		p.hasVideo, p.width, p.height = true, s.Width, s.Height
		rot, _ := strconv.ParseFloat(s.Tags["rotate"], 64)
		for _, sd := range s.SideData {
			rot = sd.Rotation
		}
		if r := int(math.Abs(rot)) % 180; r == 90 { // portrait phone video
			p.width, p.height = p.height, p.width
		}
	}
	return p, nil
}

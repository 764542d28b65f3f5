package soak

import (
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
)

// write keeps the samples as soak.csv and a plot, soak.png, in dir. The
// plot has no text (the standard library draws none): four panels over
// time, each from 0 to its highest value — RSS (anonymous blue, file
// grey), open descriptors, goroutines, and the state kept (pods cached
// live green, deleted red, files matched grey) — with the pods seen as a
// thin black line in the last panel, scaled to its own maximum.
func write(dir string, samples []sample) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "soak.csv"))
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"seconds", "rss_anon_kib", "rss_file_kib", "fds", "goroutines", "pods_cached_live", "pods_cached_deleted", "files_matched", "pods_alive", "pods_seen", "lines_written"})
	for _, s := range samples {
		_ = w.Write([]string{strconv.FormatFloat(s.at.Seconds(), 'f', 0, 64), fmt.Sprint(s.rssAnon), fmt.Sprint(s.rssFile), fmt.Sprint(s.fds),
			fmt.Sprint(s.goroutines), fmt.Sprint(s.live), fmt.Sprint(s.deleted), fmt.Sprint(s.files), fmt.Sprint(s.podsAlive),
			fmt.Sprint(s.podsSeen), fmt.Sprint(s.linesWritten)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}

	const width, panel, gap = 900, 160, 20
	panels := []struct {
		series []func(sample) float64
		colors []color.RGBA
	}{
		{[]func(sample) float64{func(s sample) float64 { return float64(s.rssAnon) }, func(s sample) float64 { return float64(s.rssFile) }},
			[]color.RGBA{{30, 90, 200, 255}, {150, 150, 150, 255}}},
		{[]func(sample) float64{func(s sample) float64 { return float64(s.fds) }}, []color.RGBA{{30, 90, 200, 255}}},
		{[]func(sample) float64{func(s sample) float64 { return float64(s.goroutines) }}, []color.RGBA{{30, 90, 200, 255}}},
		{[]func(sample) float64{func(s sample) float64 { return float64(s.live) }, func(s sample) float64 { return float64(s.deleted) },
			func(s sample) float64 { return float64(s.files) }}, []color.RGBA{{40, 160, 60, 255}, {210, 50, 40, 255}, {150, 150, 150, 255}}},
	}
	img := image.NewRGBA(image.Rect(0, 0, width, len(panels)*(panel+gap)+gap))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	last := samples[len(samples)-1].at.Seconds()
	x := func(s sample) int { return 10 + int(s.at.Seconds()/last*float64(width-20)) }
	for p, pn := range panels {
		top := gap + p*(panel+gap)
		for xx := 10; xx < width-10; xx++ { // the zero line
			img.Set(xx, top+panel, color.RGBA{0, 0, 0, 255})
		}
		line := func(of func(sample) float64, c color.RGBA) {
			peak := 0.0
			for _, s := range samples {
				peak = max(peak, of(s))
			}
			if peak == 0 {
				peak = 1
			}
			y := func(s sample) int { return top + panel - int(of(s)/(peak*1.1)*float64(panel)) }
			for i := 1; i < len(samples); i++ {
				drawLine(img, x(samples[i-1]), y(samples[i-1]), x(samples[i]), y(samples[i]), c)
			}
		}
		for i, of := range pn.series {
			line(of, pn.colors[i])
		}
		if p == len(panels)-1 {
			line(func(s sample) float64 { return float64(s.podsSeen) }, color.RGBA{0, 0, 0, 255})
		}
	}
	out, err := os.Create(filepath.Join(dir, "soak.png"))
	if err != nil {
		return err
	}
	if err := png.Encode(out, img); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// drawLine draws a 2-pixel line (Bresenham).
func drawLine(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		img.Set(x0, y0, c)
		img.Set(x0, y0+1, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		if e2 := 2 * e; e2 >= dy {
			e += dy
			x0 += sx
		} else {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

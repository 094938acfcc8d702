// Package plot draws small line charts as PNG, for the benchmark reports.
package plot

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Series is one line.
type Series struct {
	Name  string
	Color color.RGBA
	X, Y  []float64
}

// Chart is a line chart with labelled axes.
type Chart struct {
	Title, XLabel, YLabel string
	Series                []Series
	Width, Height         int
}

const margin = 60

// PNG renders the chart.
func (c Chart) PNG(w io.Writer) error {
	if c.Width == 0 {
		c.Width, c.Height = 720, 420
	}
	img := image.NewRGBA(image.Rect(0, 0, c.Width, c.Height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	maxX, maxY := 0.0, 0.0
	for _, s := range c.Series {
		for i := range s.X {
			maxX, maxY = math.Max(maxX, s.X[i]), math.Max(maxY, s.Y[i])
		}
	}
	maxX, maxY = nice(maxX), nice(maxY)
	px := func(x float64) int { return margin + int(x/maxX*float64(c.Width-2*margin)) }
	py := func(y float64) int { return c.Height - margin - int(y/maxY*float64(c.Height-2*margin)) }
	grey, black := color.RGBA{220, 220, 220, 255}, color.RGBA{0, 0, 0, 255}
	for i := 0; i <= 4; i++ {
		y := maxY * float64(i) / 4
		line(img, px(0), py(y), px(maxX), py(y), grey)
		text(img, 4, py(y)+4, fmt.Sprintf("%.4g", y), black)
		x := maxX * float64(i) / 4
		line(img, px(x), py(0), px(x), py(maxY), grey)
		text(img, px(x)-10, c.Height-margin+16, fmt.Sprintf("%.4g", x), black)
	}
	line(img, px(0), py(0), px(maxX), py(0), black)
	line(img, px(0), py(0), px(0), py(maxY), black)
	text(img, margin, 20, c.Title, black)
	text(img, c.Width/2-40, c.Height-16, c.XLabel, black)
	text(img, 4, margin-20, c.YLabel, black)
	for k, s := range c.Series {
		for i := range s.X {
			if i > 0 {
				line(img, px(s.X[i-1]), py(s.Y[i-1]), px(s.X[i]), py(s.Y[i]), s.Color)
			}
			dot(img, px(s.X[i]), py(s.Y[i]), s.Color)
		}
		text(img, c.Width-margin-150, margin+16*k, "- "+s.Name, s.Color)
	}
	return png.Encode(w, img)
}

func nice(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func line(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := math.Abs(float64(x1-x0)), math.Abs(float64(y1-y0))
	steps := int(math.Max(dx, dy))
	for i := 0; i <= steps; i++ {
		t := 0.0
		if steps > 0 {
			t = float64(i) / float64(steps)
		}
		img.Set(x0+int(t*float64(x1-x0)), y0+int(t*float64(y1-y0)), c)
	}
}

func dot(img *image.RGBA, x, y int, c color.RGBA) {
	for dx := -3; dx <= 3; dx++ {
		for dy := -3; dy <= 3; dy++ {
			img.Set(x+dx, y+dy, c)
		}
	}
}

func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

package nws

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strconv"
)

// AlertCollection is the GeoJSON FeatureCollection answered by
// /alerts/active/area/{area}.
type AlertCollection struct {
	Type     string  `json:"type"`
	Title    string  `json:"title"`
	Updated  string  `json:"updated"`
	Features []Alert `json:"features"`
}

// Alert is one feature of an [AlertCollection].
type Alert struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Properties AlertProperties `json:"properties"`
}

// AlertProperties holds the CAP fields of an alert. Fields that are null
// upstream (instruction often is) decode as "".
type AlertProperties struct {
	ID          string `json:"id"`
	AreaDesc    string `json:"areaDesc"`
	Sent        string `json:"sent"`
	Effective   string `json:"effective"`
	Onset       string `json:"onset"`
	Expires     string `json:"expires"`
	Ends        string `json:"ends"`
	Status      string `json:"status"`
	MessageType string `json:"messageType"`
	Category    string `json:"category"`
	Severity    string `json:"severity"`
	Certainty   string `json:"certainty"`
	Urgency     string `json:"urgency"`
	Event       string `json:"event"`
	Sender      string `json:"sender"`
	SenderName  string `json:"senderName"`
	Headline    string `json:"headline"`
	Description string `json:"description"`
	Instruction string `json:"instruction"`
	Response    string `json:"response"`
}

// Point is the answer of /points/{lat},{lon}.
type Point struct {
	ID         string          `json:"id"`
	Properties PointProperties `json:"properties"`
}

// PointProperties holds the grid and the forecast URLs of a point.
type PointProperties struct {
	GridID           string `json:"gridId"`
	GridX            int    `json:"gridX"`
	GridY            int    `json:"gridY"`
	Forecast         string `json:"forecast"`
	ForecastHourly   string `json:"forecastHourly"`
	ForecastGridData string `json:"forecastGridData"`
	TimeZone         string `json:"timeZone"`
	RadarStation     string `json:"radarStation"`
}

// Forecast is the answer of /gridpoints/{wfo}/{x},{y}/forecast.
type Forecast struct {
	Properties ForecastProperties `json:"properties"`
}

// ForecastProperties holds the forecast periods.
type ForecastProperties struct {
	Units       string   `json:"units"`
	GeneratedAt string   `json:"generatedAt"`
	UpdateTime  string   `json:"updateTime"`
	Periods     []Period `json:"periods"`
}

// Period is one (usually 12-hour) forecast period.
type Period struct {
	Number                     int               `json:"number"`
	Name                       string            `json:"name"`
	StartTime                  string            `json:"startTime"`
	EndTime                    string            `json:"endTime"`
	IsDaytime                  bool              `json:"isDaytime"`
	Temperature                *float64          `json:"temperature"`
	TemperatureUnit            string            `json:"temperatureUnit"`
	ProbabilityOfPrecipitation QuantitativeValue `json:"probabilityOfPrecipitation"`
	WindSpeed                  string            `json:"windSpeed"`
	WindDirection              string            `json:"windDirection"`
	ShortForecast              string            `json:"shortForecast"`
	DetailedForecast           string            `json:"detailedForecast"`
}

// QuantitativeValue is a value with a WMO unit code; Value is nil when the
// API has no value.
type QuantitativeValue struct {
	Value    *float64 `json:"value"`
	UnitCode string   `json:"unitCode"`
}

// Alerts returns the active alerts for an NWS area code (a state,
// territory or marine area code such as "CA" or "GM"). The code must be
// two upper-case letters; anything else is an error, with no request.
//
// Alerts, Point and Forecast return values that are shared with other
// callers while the answer is cached (it is decoded once): read them, never
// modify them.
func (c *Client) Alerts(ctx context.Context, area string) (*AlertCollection, error) {
	if len(area) != 2 || area[0] < 'A' || area[0] > 'Z' || area[1] < 'A' || area[1] > 'Z' {
		return nil, fmt.Errorf("nws: invalid area code %q: want two upper-case letters", area)
	}
	u, err := c.resolve("/alerts/active/area/" + area)
	if err != nil {
		return nil, err
	}
	return getDecoded[AlertCollection](ctx, c, u)
}

// RoundCoordinate rounds a latitude or longitude to the 4 decimals the
// API accepts without redirecting.
func RoundCoordinate(v float64) float64 {
	r := math.Round(v*1e4) / 1e4
	if r == 0 {
		return 0 // no "-0"
	}
	return r
}

// FormatCoordinate formats a coordinate rounded to 4 decimals in the
// shortest form, as used in /points URLs (e.g. "39.7456", "-97.0892").
func FormatCoordinate(v float64) string {
	return strconv.FormatFloat(RoundCoordinate(v), 'f', -1, 64)
}

// Point returns the metadata, including the forecast URL, of the grid
// point at lat, lon (rounded to 4 decimals). A location outside NWS
// coverage gives a 404 [StatusError] wrapping [ErrNotFound].
func (c *Client) Point(ctx context.Context, lat, lon float64) (*Point, error) {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return nil, fmt.Errorf("nws: invalid coordinates %v,%v", lat, lon)
	}
	u, err := c.resolve("/points/" + FormatCoordinate(lat) + "," + FormatCoordinate(lon))
	if err != nil {
		return nil, err
	}
	return getDecoded[Point](ctx, c, u)
}

// Forecast fetches a forecast URL as found in a point's
// properties.forecast. The URL must be on the scheme and host of the base
// URL; any other gives an error wrapping [ErrForeignURL] and no request.
func (c *Client) Forecast(ctx context.Context, forecastURL string) (*Forecast, error) {
	u, err := url.Parse(forecastURL)
	if err != nil {
		return nil, fmt.Errorf("nws: invalid forecast URL: %w", err)
	}
	if !u.IsAbs() || !sameOrigin(u, c.base) || u.User != nil {
		return nil, fmt.Errorf("nws: forecast URL on host %q: %w", sanitize(u.Host, 100), ErrForeignURL)
	}
	u.Fragment, u.RawFragment = "", ""
	return getDecoded[Forecast](ctx, c, u)
}

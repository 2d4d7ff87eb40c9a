package httpd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/autoprov/autoprov"
	"github.com/autoprov/autoprov/firmware"
	"github.com/autoprov/autoprov/server/provision"
)

// Rollout is what the firmware rollout routes call (*provision.Inventory):
// targets per model (/api/v1/models/{vendor}/{model}/firmware), a
// device's own target ("firmware" in PATCH /api/v1/devices/{mac}), and
// the status (/api/v1/firmware/status, "firmware_status" of a device).
type Rollout interface {
	ModelFirmware(ctx context.Context, vendor, model string) (autoprov.FirmwareTarget, error)
	ModelFirmwares(ctx context.Context) ([]autoprov.FirmwareTarget, error)
	PutModelFirmware(ctx context.Context, vendor, model string, in autoprov.FirmwareTargetInput, actor string) (autoprov.FirmwareTarget, error)
	DeleteModelFirmware(ctx context.Context, vendor, model, actor string) error
	SetDeviceFirmware(ctx context.Context, mac string, in *autoprov.FirmwareTargetInput, actor string) error
	FirmwareStatus(ctx context.Context, f provision.FirmwareStatusFilter) ([]autoprov.FirmwareStatus, int, []autoprov.FirmwareSummary, error)
	DeviceFirmware(ctx context.Context, mac string) (autoprov.FirmwareStatus, error)
}

func (s *Server) rolloutRoutes(api *gin.RouterGroup) {
	api.GET("/models/:vendor/:model/firmware", s.getModelFirmware)
	api.PUT("/models/:vendor/:model/firmware", s.putModelFirmware)
	api.DELETE("/models/:vendor/:model/firmware", s.deleteModelFirmware)
	api.GET("/firmware/targets", s.listModelFirmware)
	api.GET("/firmware/status", s.firmwareStatus)
}

// stageJSON is a target's stage: a percentage (25) or {"macs": [...]}.
type stageJSON struct {
	Percent *int
	MACs    []string
}

func (st stageJSON) MarshalJSON() ([]byte, error) {
	if st.MACs != nil {
		return json.Marshal(struct {
			MACs []string `json:"macs"`
		}{st.MACs})
	}
	return json.Marshal(st.Percent)
}

func (st *stageJSON) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var o struct {
			MACs []string `json:"macs"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil || o.MACs == nil {
			return &autoprov.InvalidError{Field: "stage", Message: `stage must be a percentage from 1 to 100 or {"macs": ["<mac>", ...]}`}
		}
		st.MACs = o.MACs
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return &autoprov.InvalidError{Field: "stage", Message: `stage must be a percentage from 1 to 100 or {"macs": ["<mac>", ...]}`}
	}
	st.Percent = &n
	return nil
}

// targetInputJSON is PUT /models/{vendor}/{model}/firmware and the
// "firmware" object of PATCH /devices/{mac}.
type targetInputJSON struct {
	Version string     `json:"version"`
	Stage   *stageJSON `json:"stage"`
	Now     bool       `json:"now"`
	Exclude bool       `json:"exclude"`
}

func (in targetInputJSON) domain() autoprov.FirmwareTargetInput {
	out := autoprov.FirmwareTargetInput{Version: in.Version, Now: in.Now, Exclude: in.Exclude}
	if in.Stage != nil {
		out.Stage, out.StageMACs = in.Stage.Percent, in.Stage.MACs
	}
	return out
}

type targetJSON struct {
	Vendor     string    `json:"vendor"`
	Model      string    `json:"model,omitempty"`
	MAC        string    `json:"mac,omitempty"`
	Version    string    `json:"version,omitempty"`
	FirmwareID int64     `json:"firmware_id,omitempty"`
	Path       string    `json:"path,omitempty"`
	Stage      stageJSON `json:"stage"`
	Now        bool      `json:"now"`
	Exclude    bool      `json:"exclude,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
	UpdatedBy  string    `json:"updated_by"`
}

func targetOut(t autoprov.FirmwareTarget) targetJSON {
	out := targetJSON{Vendor: t.Vendor, Model: t.Model, MAC: t.MAC, Now: t.Now, Exclude: t.Exclude, UpdatedAt: t.UpdatedAt, UpdatedBy: t.UpdatedBy}
	if t.Firmware != nil {
		out.Version, out.FirmwareID, out.Path = t.Firmware.Version, t.Firmware.ID, "/"+firmware.Path(*t.Firmware)
	}
	if len(t.StageMACs) > 0 {
		out.Stage.MACs = t.StageMACs
	} else {
		n := t.Stage
		out.Stage.Percent = &n
	}
	return out
}

type downloadJSON struct {
	Transport string     `json:"transport"`
	RemoteIP  string     `json:"remote_ip"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
	Bytes     int64      `json:"bytes"`
	Size      int64      `json:"size"`
	Outcome   string     `json:"outcome"`
	Completed int        `json:"completed"`
}

// firmwareStatusJSON is one device's place in its rollout.
type firmwareStatusJSON struct {
	MAC          string        `json:"mac"`
	Vendor       string        `json:"vendor"`
	Model        string        `json:"model"`
	Reported     string        `json:"reported"`
	Target       string        `json:"target"`
	FirmwareID   int64         `json:"firmware_id,omitempty"`
	Source       string        `json:"source"`
	InStage      bool          `json:"in_stage"`
	Status       string        `json:"status"`
	LastDownload *downloadJSON `json:"last_download"`
}

func firmwareStatusOut(st autoprov.FirmwareStatus) firmwareStatusJSON {
	out := firmwareStatusJSON{MAC: st.MAC, Vendor: st.Vendor, Model: st.Model, Reported: st.Reported, Target: st.Target,
		FirmwareID: st.FirmwareID, Source: st.Source, InStage: st.InStage, Status: st.Status}
	if d := st.LastDownload; d != nil {
		out.LastDownload = &downloadJSON{Transport: d.Transport, RemoteIP: d.RemoteIP, StartedAt: d.StartedAt, Bytes: d.Bytes,
			Size: d.Size, Outcome: d.Outcome, Completed: d.Completed}
		if !d.EndedAt.IsZero() {
			e := d.EndedAt
			out.LastDownload.EndedAt = &e
		}
	}
	return out
}

type firmwareSummaryJSON struct {
	Vendor    string     `json:"vendor"`
	Model     string     `json:"model"`
	Target    string     `json:"target"`
	Stage     *stageJSON `json:"stage,omitempty"`      // a percentage; absent with a list or without a target
	StageMACs int        `json:"stage_macs,omitempty"` // how many MACs an explicit stage lists
	Now       bool       `json:"now"`
	Devices   int        `json:"devices"`
	OnTarget  int        `json:"on_target"`
	Pending   int        `json:"pending"`
	Failed    int        `json:"failed"`
	Excluded  int        `json:"excluded"`
	// Unsupported counts the devices a target names though their model
	// takes no firmware (a target stored before the API refused it).
	Unsupported int `json:"unsupported"`
}

func firmwareSummaryOut(s autoprov.FirmwareSummary) firmwareSummaryJSON {
	out := firmwareSummaryJSON{Vendor: s.Vendor, Model: s.Model, Target: s.Target, Now: s.Now, Devices: s.Devices,
		OnTarget: s.OnTarget, Pending: s.Pending, Failed: s.Failed, Excluded: s.Excluded,
		Unsupported: s.Unsupported}
	out.StageMACs = s.StageMACs
	if s.Target != "" && s.StageMACs == 0 {
		n := s.Stage
		out.Stage = &stageJSON{Percent: &n}
	}
	return out
}

// firmwareStatusPageJSON is GET /firmware/status: a page of devices
// (as every list) and the per-model counts of all that match.
type firmwareStatusPageJSON struct {
	Items  []firmwareStatusJSON  `json:"items"`
	Total  int                   `json:"total"`
	Limit  int                   `json:"limit"`
	Offset int                   `json:"offset"`
	Models []firmwareSummaryJSON `json:"models"`
}

func (s *Server) rollout(c *gin.Context) (Rollout, bool) {
	if s.cfg.Rollout == nil {
		s.fail(c, autoprov.ErrNotFound)
		return nil, false
	}
	return s.cfg.Rollout, true
}

func (s *Server) getModelFirmware(c *gin.Context) {
	r, ok := s.rollout(c)
	if !ok {
		return
	}
	t, err := r.ModelFirmware(c.Request.Context(), c.Param("vendor"), c.Param("model"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, targetOut(t))
}

func (s *Server) listModelFirmware(c *gin.Context) {
	r, ok := s.rollout(c)
	if !ok {
		return
	}
	ts, err := r.ModelFirmwares(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	list(c, ts, targetOut, len(ts), len(ts), 0)
}

func (s *Server) putModelFirmware(c *gin.Context) {
	r, ok := s.rollout(c)
	if !ok {
		return
	}
	var in targetInputJSON
	if err := bind(c, &in); err != nil {
		s.fail(c, stageError(err))
		return
	}
	t, err := r.PutModelFirmware(c.Request.Context(), c.Param("vendor"), c.Param("model"), in.domain(), actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, targetOut(t))
}

// stageError keeps the stage's own message through bind's generic one.
func stageError(err error) error {
	var inv *autoprov.InvalidError
	if errors.As(err, &inv) && inv.Field == "stage" {
		return &autoprov.InvalidError{Field: "stage", Message: `stage must be a percentage from 1 to 100 or {"macs": ["<mac>", ...]}`}
	}
	return err
}

func (s *Server) deleteModelFirmware(c *gin.Context) {
	r, ok := s.rollout(c)
	if !ok {
		return
	}
	if err := r.DeleteModelFirmware(c.Request.Context(), c.Param("vendor"), c.Param("model"), actor(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) firmwareStatus(c *gin.Context) {
	r, ok := s.rollout(c)
	if !ok {
		return
	}
	limit, offset, ok := s.page(c)
	if !ok {
		return
	}
	items, total, sums, err := r.FirmwareStatus(c.Request.Context(), provision.FirmwareStatusFilter{
		Vendor: c.Query("vendor"), Model: c.Query("model"), Limit: limit, Offset: offset})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("X-Total-Count", strconv.Itoa(total))
	c.JSON(http.StatusOK, firmwareStatusPageJSON{Items: each(items, firmwareStatusOut), Total: total, Limit: limit, Offset: offset,
		Models: each(sums, firmwareSummaryOut)})
}

// deviceFirmwarePatch takes "firmware" out of a PATCH /devices/{mac}
// body: present reports whether it was there, in is nil for null (clear
// the device's own target). rest is the body without it.
func deviceFirmwarePatch(body []byte) (rest []byte, present bool, in *autoprov.FirmwareTargetInput, err error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body, false, nil, nil // bind reports what is wrong with it
	}
	raw, present := m["firmware"]
	if !present {
		return body, false, nil, nil
	}
	delete(m, "firmware")
	rest, err = json.Marshal(m)
	if err != nil {
		return nil, true, nil, err
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return rest, true, nil, nil
	}
	var t targetInputJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, true, nil, &autoprov.InvalidError{Field: "firmware",
			Message: `firmware must be {"version": "<version>", "now": false}, {"exclude": true} or null`}
	}
	d := t.domain()
	return rest, true, &d, nil
}

// withFirmware adds the device's firmware status to its JSON, when the
// rollout is wired.
func (s *Server) withFirmware(c *gin.Context, out *deviceJSON) error {
	if s.cfg.Rollout == nil {
		return nil
	}
	st, err := s.cfg.Rollout.DeviceFirmware(c.Request.Context(), out.MAC)
	if err != nil {
		return err
	}
	fs := firmwareStatusOut(st)
	out.FirmwareStatus = &fs
	return nil
}

// readBody reads the request body and puts it back.
func readBody(c *gin.Context) ([]byte, error) {
	b, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return nil, err
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

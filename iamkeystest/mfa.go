package iamkeystest

import (
	"regexp"
	"slices"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// mfaSerial is serialNumberType's pattern.
var mfaSerial = regexp.MustCompile(`^[\w+=/:,.@-]+$`)

// MFA devices: ListMFADevices, DeactivateMFADevice and DeleteVirtualMFADevice.
// Devices are seeded with AddMFADevice; CreateVirtualMFADevice and
// EnableMFADevice (a TOTP seed and two consecutive codes) are not served.
//
// A virtual device's serial number is its ARN, arn:aws:iam::<account>:mfa/<name>
// (API reference, DeactivateMFADevice). Deactivating one leaves it in the
// account, unassigned; DeleteVirtualMFADevice removes it, and "you must
// deactivate a user's virtual MFA device before you can delete it"
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteVirtualMFADevice.html),
// hence DeleteConflict while assigned. The texts of these two operations'
// errors are not recorded from IAM.

type xmlMFADevice struct {
	UserName     string `xml:"UserName"`
	SerialNumber string `xml:"SerialNumber"`
	EnableDate   string `xml:"EnableDate"`
}

type xmlListMFADevicesResult struct {
	MFADevices  xmlMFADeviceList `xml:"MFADevices"`
	IsTruncated bool             `xml:"IsTruncated"`
	Marker      string           `xml:"Marker,omitempty"`
}

// xmlMFADeviceList is always emitted, so an empty list decodes as empty.
type xmlMFADeviceList struct {
	Members []xmlMFADevice `xml:"member"`
}

// serialNumber validates a SerialNumber parameter (serialNumberType: 9–256
// characters of [\w+=/:,.@-]).
func (v *validator) serialNumber(c *call) string {
	serial := c.form.Get("SerialNumber")
	if v.required(c, "SerialNumber", "serialNumber") && v.length("serialNumber", serial, 9, 256) {
		v.pattern("serialNumber", serial, mfaSerial)
	}
	return serial
}

func noSuchMFADevice(serial string) *apiError {
	return newError(iamerr.NoSuchEntity, "MFA Device with serial number "+serial+" does not exist.")
}

func (s *Server) opListMFADevices(c *call) (any, *apiError) {
	var v validator
	optionalUser(c, &v)
	pr := readPageRequest(c, &v)
	u, e := s.dependentOwner(c, &v)
	if e != nil {
		return nil, e
	}
	devices := sortedByID(u.mfa, func(d *mfaDevice) string { return d.serial })
	p := pr.page(len(devices), func(i int) string { return devices[i].serial })
	res := xmlListMFADevicesResult{IsTruncated: p.truncated, Marker: p.marker}
	res.MFADevices.Members = []xmlMFADevice{}
	for _, d := range devices[p.start:p.end] {
		res.MFADevices.Members = append(res.MFADevices.Members, xmlMFADevice{UserName: u.name, SerialNumber: d.serial, EnableDate: isoTime(d.enabled)})
	}
	return res, nil
}

func (s *Server) opDeactivateMFADevice(c *call) (any, *apiError) {
	var v validator
	optionalUser(c, &v)
	serial := v.serialNumber(c)
	u, e := s.dependentOwner(c, &v)
	if e != nil {
		return nil, e
	}
	i := slices.IndexFunc(u.mfa, func(d *mfaDevice) bool { return d.serial == serial })
	if i < 0 {
		return nil, noSuchMFADevice(serial)
	}
	u.mfa[i].owner = nil // a virtual device stays in s.deps.virtualMFA
	u.mfa = slices.Delete(u.mfa, i, i+1)
	s.emit(c, Event{Action: c.action, UserName: u.name, Target: serial})
	return nil, nil
}

func (s *Server) opDeleteVirtualMFADevice(c *call) (any, *apiError) {
	var v validator
	serial := v.serialNumber(c)
	if e := v.err(); e != nil {
		return nil, e
	}
	d := s.deps.virtualMFA[serial]
	if d == nil {
		return nil, newError(iamerr.NoSuchEntity, "VirtualMFADevice with serial number "+serial+" does not exist.")
	}
	if d.owner != nil {
		return nil, newError(iamerr.DeleteConflict, "MFA device is still in use; deactivate it first.")
	}
	delete(s.deps.virtualMFA, serial)
	s.emit(c, Event{Action: c.action, Target: serial})
	return nil, nil
}

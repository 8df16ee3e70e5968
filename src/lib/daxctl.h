/* daxctl.h - is a dax device daxctl's to online? (its /etc/daxctl.conf.d configuration)
 *
 * `daxctl reconfigure-device --check-config`, run by daxctl's own udev rule for every new dax
 * device, reads the files <sysconfdir>/daxctl.conf.d/NAME.conf: sections [reconfigure-device NAME], each naming
 * one device by its nvdimm.uuid (the uuid `ndctl list --device-dax` shows) with mode, online and
 * movable. A dax/kmem block whose dax device such a section names is left to daxctl; any other is
 * not, whatever other files exist (memzone.conf(5), [source kmem]). */
#ifndef MZ_DAXCTL_H
#define MZ_DAXCTL_H

#include <stdbool.h>
#include <stddef.h>

/* Pure: in one daxctl config file's text, the NAME of the first [reconfigure-device NAME] section
 * whose nvdimm.uuid equals uuid (case-insensitive, blanks around '=' ignored, '#'/';' comments). */
bool mz_daxctl_text_names(const char *text, const char *uuid, char *section, size_t len);

/* The nvdimm uuid of dax device dev ("dax0.0", a name from /proc/iomem): the uuid attribute of the
 * nd device above <root>/sys/bus/dax/devices/DEV, or of the namespace it names. 0 or -errno
 * (-ENOENT: not an nvdimm dax device, e.g. CXL or soft-reserved memory: daxctl cannot name it). */
int mz_daxctl_device_uuid(const char *dev, char *uuid, size_t len);

/* dev is named by a section of <root>/etc/daxctl.conf.d/ *.conf: true, with "FILE [reconfigure-device
 * NAME]" in why. */
bool mz_daxctl_claims(const char *dev, char *why, size_t len);

/* Some <root>/etc/daxctl.conf.d/ *.conf has a [reconfigure-device] section: daxctl onlines such
 * devices itself, and refuses to while the kernel auto-onlines (true, with the file in why). */
bool mz_daxctl_configured(char *why, size_t len);

#endif

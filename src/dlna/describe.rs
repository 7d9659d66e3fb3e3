//! The device description (`/dlna/device.xml`) and the services' documents
//! (SCPD: the actions each takes and the state variables they name).

use super::{escape, Dlna};

/// The ContentDirectory's document, control and event paths.
pub const CDS_SCPD: &str = "/dlna/cds.xml";
pub const CDS_CONTROL: &str = "/dlna/cds/control";
pub const CDS_EVENTS: &str = "/dlna/cds/events";
/// The ConnectionManager's.
pub const CMS_SCPD: &str = "/dlna/cms.xml";
pub const CMS_CONTROL: &str = "/dlna/cms/control";
pub const CMS_EVENTS: &str = "/dlna/cms/events";

/// The device description: a MediaServer with its two services.
pub fn device(dlna: &Dlna) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<root xmlns="urn:schemas-upnp-org:device-1-0" xmlns:dlna="urn:schemas-dlna-org:device-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion>
<device>
<deviceType>urn:schemas-upnp-org:device:MediaServer:1</deviceType>
<dlna:X_DLNADOC>DMS-1.50</dlna:X_DLNADOC>
<friendlyName>{name}</friendlyName>
<manufacturer>vidserve</manufacturer>
<modelDescription>A local video server</modelDescription>
<modelName>vidserve</modelName>
<modelNumber>{version}</modelNumber>
<UDN>{udn}</UDN>
<presentationURL>/</presentationURL>
<serviceList>
<service>
<serviceType>urn:schemas-upnp-org:service:ContentDirectory:1</serviceType>
<serviceId>urn:upnp-org:serviceId:ContentDirectory</serviceId>
<SCPDURL>{CDS_SCPD}</SCPDURL>
<controlURL>{CDS_CONTROL}</controlURL>
<eventSubURL>{CDS_EVENTS}</eventSubURL>
</service>
<service>
<serviceType>urn:schemas-upnp-org:service:ConnectionManager:1</serviceType>
<serviceId>urn:upnp-org:serviceId:ConnectionManager</serviceId>
<SCPDURL>{CMS_SCPD}</SCPDURL>
<controlURL>{CMS_CONTROL}</controlURL>
<eventSubURL>{CMS_EVENTS}</eventSubURL>
</service>
</serviceList>
</device>
</root>
"#,
        name = escape(&dlna.name),
        version = env!("CARGO_PKG_VERSION"),
        udn = escape(&dlna.udn),
    )
}

/// One argument of an action: name, direction, related state variable.
type Arg = (&'static str, &'static str, &'static str);

/// An SCPD of `actions` and `variables` (name, type, sends events,
/// allowed values).
fn scpd(actions: &[(&str, &[Arg])], variables: &[(&str, &str, bool, &[&str])]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<scpd xmlns=\"urn:schemas-upnp-org:service-1-0\">\n\
         <specVersion><major>1</major><minor>0</minor></specVersion>\n<actionList>\n",
    );
    for (name, args) in actions {
        out.push_str(&format!("<action><name>{name}</name><argumentList>"));
        for (arg, direction, related) in *args {
            out.push_str(&format!(
                "<argument><name>{arg}</name><direction>{direction}</direction>\
                 <relatedStateVariable>{related}</relatedStateVariable></argument>"
            ));
        }
        out.push_str("</argumentList></action>\n");
    }
    out.push_str("</actionList>\n<serviceStateTable>\n");
    for (name, kind, events, allowed) in variables {
        let events = if *events { "yes" } else { "no" };
        out.push_str(&format!("<stateVariable sendEvents=\"{events}\"><name>{name}</name><dataType>{kind}</dataType>"));
        if !allowed.is_empty() {
            out.push_str("<allowedValueList>");
            for v in *allowed {
                out.push_str(&format!("<allowedValue>{v}</allowedValue>"));
            }
            out.push_str("</allowedValueList>");
        }
        out.push_str("</stateVariable>\n");
    }
    out.push_str("</serviceStateTable>\n</scpd>\n");
    out
}

/// The ContentDirectory:1 service's document.
pub fn content_directory() -> String {
    // Browse and Search share their paging and their answer.
    const PAGED: [Arg; 8] = [
        ("Filter", "in", "A_ARG_TYPE_Filter"),
        ("StartingIndex", "in", "A_ARG_TYPE_Index"),
        ("RequestedCount", "in", "A_ARG_TYPE_Count"),
        ("SortCriteria", "in", "A_ARG_TYPE_SortCriteria"),
        ("Result", "out", "A_ARG_TYPE_Result"),
        ("NumberReturned", "out", "A_ARG_TYPE_Count"),
        ("TotalMatches", "out", "A_ARG_TYPE_Count"),
        ("UpdateID", "out", "A_ARG_TYPE_UpdateID"),
    ];
    let browse =
        [&[("ObjectID", "in", "A_ARG_TYPE_ObjectID"), ("BrowseFlag", "in", "A_ARG_TYPE_BrowseFlag")][..], &PAGED]
            .concat();
    let search = [
        &[("ContainerID", "in", "A_ARG_TYPE_ObjectID"), ("SearchCriteria", "in", "A_ARG_TYPE_SearchCriteria")][..],
        &PAGED,
    ]
    .concat();
    scpd(
        &[
            ("GetSearchCapabilities", &[("SearchCaps", "out", "SearchCapabilities")]),
            ("GetSortCapabilities", &[("SortCaps", "out", "SortCapabilities")]),
            ("GetSystemUpdateID", &[("Id", "out", "SystemUpdateID")]),
            ("Browse", &browse),
            ("Search", &search),
        ],
        &[
            ("SearchCapabilities", "string", false, &[]),
            ("SortCapabilities", "string", false, &[]),
            ("SystemUpdateID", "ui4", true, &[]),
            ("A_ARG_TYPE_ObjectID", "string", false, &[]),
            ("A_ARG_TYPE_Result", "string", false, &[]),
            ("A_ARG_TYPE_SearchCriteria", "string", false, &[]),
            ("A_ARG_TYPE_BrowseFlag", "string", false, &["BrowseMetadata", "BrowseDirectChildren"]),
            ("A_ARG_TYPE_Filter", "string", false, &[]),
            ("A_ARG_TYPE_SortCriteria", "string", false, &[]),
            ("A_ARG_TYPE_Index", "ui4", false, &[]),
            ("A_ARG_TYPE_Count", "ui4", false, &[]),
            ("A_ARG_TYPE_UpdateID", "ui4", false, &[]),
        ],
    )
}

/// The ConnectionManager:1 service's document.
pub fn connection_manager() -> String {
    scpd(
        &[
            ("GetProtocolInfo", &[("Source", "out", "SourceProtocolInfo"), ("Sink", "out", "SinkProtocolInfo")]),
            ("GetCurrentConnectionIDs", &[("ConnectionIDs", "out", "CurrentConnectionIDs")]),
            (
                "GetCurrentConnectionInfo",
                &[
                    ("ConnectionID", "in", "A_ARG_TYPE_ConnectionID"),
                    ("RcsID", "out", "A_ARG_TYPE_RcsID"),
                    ("AVTransportID", "out", "A_ARG_TYPE_AVTransportID"),
                    ("ProtocolInfo", "out", "A_ARG_TYPE_ProtocolInfo"),
                    ("PeerConnectionManager", "out", "A_ARG_TYPE_ConnectionManager"),
                    ("PeerConnectionID", "out", "A_ARG_TYPE_ConnectionID"),
                    ("Direction", "out", "A_ARG_TYPE_Direction"),
                    ("Status", "out", "A_ARG_TYPE_ConnectionStatus"),
                ],
            ),
        ],
        &[
            ("SourceProtocolInfo", "string", true, &[]),
            ("SinkProtocolInfo", "string", true, &[]),
            ("CurrentConnectionIDs", "string", true, &[]),
            (
                "A_ARG_TYPE_ConnectionStatus",
                "string",
                false,
                &["OK", "ContentFormatMismatch", "InsufficientBandwidth", "UnreliableChannel", "Unknown"],
            ),
            ("A_ARG_TYPE_ConnectionManager", "string", false, &[]),
            ("A_ARG_TYPE_Direction", "string", false, &["Input", "Output"]),
            ("A_ARG_TYPE_ProtocolInfo", "string", false, &[]),
            ("A_ARG_TYPE_ConnectionID", "i4", false, &[]),
            ("A_ARG_TYPE_AVTransportID", "i4", false, &[]),
            ("A_ARG_TYPE_RcsID", "i4", false, &[]),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_name_every_argument_once() {
        let cds = content_directory();
        assert_eq!(cds.matches("<name>Browse</name>").count(), 1);
        assert!(cds.contains("<argument><name>ObjectID</name><direction>in</direction>"));
        assert!(cds.contains("<argument><name>SearchCriteria</name><direction>in</direction>"));
        assert_eq!(cds.matches("<name>UpdateID</name>").count(), 2);
        let cms = connection_manager();
        assert!(cms.contains("<name>GetProtocolInfo</name>"));
        let dlna = Dlna::open(&crate::config::DlnaConfig::default(), tempfile::tempdir().unwrap().path()).unwrap();
        let device = device(&dlna);
        assert!(device.contains(&format!("<UDN>{}</UDN>", dlna.udn)));
        assert!(device.contains("<controlURL>/dlna/cds/control</controlURL>"));
    }
}

//! SOAP, as UPnP control uses it: an action and its arguments in, the
//! answer's arguments or a UPnP error out.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::escape;

/// Most arguments an action may carry (the largest takes six).
const MAX_ARGS: usize = 32;

/// A control request: the action's name and its arguments, in order.
#[derive(Debug, PartialEq, Eq)]
pub struct Call {
    pub action: String,
    pub args: Vec<(String, String)>,
}

impl Call {
    /// An argument's value; a missing one is an error (402).
    pub fn arg(&self, name: &str) -> Result<&str, Fault> {
        self.args.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).ok_or(Fault::InvalidArgs)
    }

    /// An unsigned number argument (402 when missing or not one).
    pub fn number(&self, name: &str) -> Result<u32, Fault> {
        self.arg(name)?.trim().parse().map_err(|_| Fault::InvalidArgs)
    }
}

/// The UPnP errors a control request can get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    InvalidAction,
    InvalidArgs,
    NoSuchObject,
    BadSearchCriteria,
    CannotProcess,
    NoSuchConnection,
}

impl Fault {
    pub fn code(self) -> u16 {
        match self {
            Fault::InvalidAction => 401,
            Fault::InvalidArgs => 402,
            Fault::NoSuchObject => 701,
            Fault::NoSuchConnection => 706,
            Fault::BadSearchCriteria => 708,
            Fault::CannotProcess => 720,
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Fault::InvalidAction => "Invalid Action",
            Fault::InvalidArgs => "Invalid Args",
            Fault::NoSuchObject => "No such object",
            Fault::NoSuchConnection => "Invalid connection reference",
            Fault::BadSearchCriteria => "Unsupported or invalid search criteria",
            Fault::CannotProcess => "Cannot process the request",
        }
    }

    /// The fault's SOAP body (sent with status 500).
    pub fn body(self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" \
             s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><s:Fault>\
             <faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>\
             <UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>{}</errorCode>\
             <errorDescription>{}</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>\n",
            self.code(),
            self.description()
        )
    }
}

/// Reads a control request's body: `Envelope` > `Body` > the action >
/// its arguments (namespaces are not checked; prefixes are dropped).
pub fn read(body: &[u8]) -> Result<Call, Fault> {
    let text = std::str::from_utf8(body).map_err(|_| Fault::InvalidArgs)?;
    let mut reader = Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut action: Option<String> = None;
    let mut args: Vec<(String, String)> = Vec::new();
    // The current argument's text, still escaped.
    let mut value = String::new();
    loop {
        let event = reader.read_event().map_err(|_| Fault::InvalidArgs)?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                match path.len() {
                    0 if name != "Envelope" => return Err(Fault::InvalidArgs),
                    1 if name != "Body" => return Err(Fault::InvalidArgs),
                    2 => action = Some(name.clone()),
                    3 => value.clear(),
                    4.. => return Err(Fault::InvalidArgs),
                    _ => {}
                }
                path.push(name);
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                match path.len() {
                    2 => action = Some(name),
                    3 => args.push((name, String::new())),
                    _ => {}
                }
            }
            Event::End(_) => {
                if path.len() == 4 {
                    if args.len() == MAX_ARGS {
                        return Err(Fault::InvalidArgs);
                    }
                    let raw = quick_xml::escape::unescape(&value).map_err(|_| Fault::InvalidArgs)?;
                    args.push((path[3].clone(), raw.into_owned()));
                }
                path.pop();
                if path.len() == 2 && action.is_some() {
                    break;
                }
            }
            Event::Text(t) if path.len() == 4 => value.push_str(&t.decode().map_err(|_| Fault::InvalidArgs)?),
            Event::GeneralRef(r) if path.len() == 4 => {
                value.push('&');
                value.push_str(&r.decode().map_err(|_| Fault::InvalidArgs)?);
                value.push(';');
            }
            Event::CData(c) if path.len() == 4 => {
                value.push_str(&escape(&String::from_utf8_lossy(&c.into_inner())));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let action = action.ok_or(Fault::InvalidAction)?;
    Ok(Call { action, args })
}

/// An action's answer: `out` arguments (text, escaped here) of `service`.
pub fn response(service: &str, action: &str, out: &[(&str, &str)]) -> String {
    envelope(service, &format!("{action}Response"), out)
}

/// A control request of a device's `service` (`in` arguments escaped here).
pub fn request(service: &str, action: &str, args: &[(&str, &str)]) -> String {
    envelope(service, action, args)
}

fn envelope(service: &str, element: &str, args: &[(&str, &str)]) -> String {
    let mut body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:{element} xmlns:u=\"{service}\">"
    );
    for (name, value) in args {
        body.push_str(&format!("<{name}>{}</{name}>", escape(value)));
    }
    body.push_str(&format!("</u:{element}></s:Body></s:Envelope>\n"));
    body
}

/// The UPnP error code of a fault a device answered (`errorCode`).
pub fn fault_code(body: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("errorCode>")? + "errorCode>".len();
    let end = start + text[start..].find('<')?;
    text[start..end].trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BROWSE: &str = r#"<?xml version="1.0"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">
 <s:Body><u:Browse xmlns:u="urn:schemas-upnp-org:service:ContentDirectory:1">
  <ObjectID>0</ObjectID><BrowseFlag>BrowseDirectChildren</BrowseFlag><Filter>*</Filter>
  <StartingIndex>0</StartingIndex><RequestedCount>10</RequestedCount><SortCriteria/>
  <SearchCriteria>dc:title contains &quot;a &amp; b&quot;</SearchCriteria>
  <Other><![CDATA[<raw>]]></Other>
 </u:Browse></s:Body></s:Envelope>"#;

    #[test]
    fn reads_an_action() {
        let call = read(BROWSE.as_bytes()).unwrap();
        assert_eq!(call.action, "Browse");
        assert_eq!(call.arg("ObjectID"), Ok("0"));
        assert_eq!(call.number("RequestedCount"), Ok(10));
        assert_eq!(call.arg("SortCriteria"), Ok(""));
        assert_eq!(call.arg("SearchCriteria"), Ok("dc:title contains \"a & b\""));
        assert_eq!(call.arg("Other"), Ok("<raw>"));
        assert_eq!(call.arg("Missing"), Err(Fault::InvalidArgs));
        assert_eq!(call.number("ObjectID").ok(), Some(0));
        assert_eq!(call.number("Filter"), Err(Fault::InvalidArgs));
    }

    #[test]
    fn refuses_what_is_not_one() {
        for bad in [
            "",
            "not xml",
            "<a><b/></a>",
            "<s:Envelope xmlns:s=\"x\"><s:Header/></s:Envelope>",
            "<s:Envelope xmlns:s=\"x\"><s:Body><u:A><B><C>deep</C></B></u:A></s:Body></s:Envelope>",
            "<s:Envelope xmlns:s=\"x\"><s:Body><u:A><B>&bogus;</B></u:A></s:Body></s:Envelope>",
        ] {
            assert!(read(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(read(&[0xff, 0xfe]).is_err());
        let many: String = (0..40).map(|i| format!("<A{i}>x</A{i}>")).collect();
        let body = format!("<s:Envelope xmlns:s=\"x\"><s:Body><u:A>{many}</u:A></s:Body></s:Envelope>");
        assert_eq!(read(body.as_bytes()), Err(Fault::InvalidArgs));
    }

    #[test]
    fn writes_answers_and_faults() {
        let r = response("urn:x:1", "Browse", &[("Result", "<DIDL-Lite/>"), ("NumberReturned", "0")]);
        assert!(r.contains("<u:BrowseResponse xmlns:u=\"urn:x:1\"><Result>&lt;DIDL-Lite/&gt;</Result><NumberReturned>0</NumberReturned></u:BrowseResponse>"));
        let f = Fault::NoSuchObject.body();
        assert!(f.contains("<errorCode>701</errorCode>"));
        assert_eq!(fault_code(f.as_bytes()), Some(701));
        assert_eq!(fault_code(b"<html>no</html>"), None);
        let q = request("urn:x:1", "Seek", &[("InstanceID", "0"), ("Target", "0:00:05")]);
        assert!(q.contains("<u:Seek xmlns:u=\"urn:x:1\"><InstanceID>0</InstanceID><Target>0:00:05</Target></u:Seek>"));
        let back = read(q.as_bytes()).unwrap();
        assert_eq!((back.action.as_str(), back.arg("Target")), ("Seek", Ok("0:00:05")));
    }
}

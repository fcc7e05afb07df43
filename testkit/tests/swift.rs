//! The Swift fixture is a real object store: objects written, read (whole
//! and ranged), listed by prefix and delimiter and deleted through the Swift
//! API and through S3 (s3api, SigV4), each seeing the other's writes; large
//! objects committed at the end (a static large object manifest, an S3
//! multipart upload) exist only once committed; and a stopped instance
//! leaves none of its processes running.
//!
//! curl is the client (`--aws-sigv4` signs S3). curl 7.88's signer takes the
//! user name up to the first colon, and tempauth's S3 access key is
//! `account:user`, so the S3 credentials go in a netrc file; it also signs
//! the query string as given, so queries here are written sorted and
//! percent-encoded.

use ferry_testkit::data::noise;
use ferry_testkit::Swift;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// An HTTP reply: status, header lines (lower-case names), body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A client of one Swift, with a scratch directory for bodies and headers.
struct Client<'a> {
    swift: &'a Swift,
    scratch: TempDir,
}

enum Api {
    Swift,
    S3,
}

impl<'a> Client<'a> {
    fn new(swift: &'a Swift) -> Client<'a> {
        let scratch = tempfile::tempdir().unwrap();
        let host = swift
            .s3_endpoint
            .trim_start_matches("http://")
            .split(':')
            .next()
            .unwrap()
            .to_owned();
        std::fs::write(
            scratch.path().join("netrc"),
            format!(
                "machine {host}\nlogin {}\npassword {}\n",
                swift.s3_access_key, swift.s3_secret
            ),
        )
        .unwrap();
        Client { swift, scratch }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.scratch.path().join(name)
    }

    /// `curl -X method url` through `api` with `extra` arguments, the body
    /// from `upload` if any.
    fn request(
        &self,
        api: Api,
        method: &str,
        url: &str,
        upload: Option<&[u8]>,
        extra: &[&str],
    ) -> Reply {
        let headers = self.path("headers");
        let body = self.path("body");
        let mut curl = Command::new("curl");
        curl.args(["-sS", "-w", "%{http_code}"]);
        // -X HEAD would wait for the body its Content-Length announces.
        match method {
            "HEAD" => curl.arg("-I"),
            _ => curl.args(["-X", method]),
        };
        curl.arg("-D").arg(&headers).arg("-o").arg(&body);
        match api {
            Api::Swift => {
                curl.arg("-H")
                    .arg(format!("X-Auth-Token: {}", self.swift.token));
            }
            Api::S3 => {
                curl.arg("--aws-sigv4")
                    .arg(format!("aws:amz:{}:s3", self.swift.s3_region))
                    .arg("--netrc-file")
                    .arg(self.path("netrc"))
                    .args(["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]);
            }
        }
        if let Some(bytes) = upload {
            let file = self.path("upload");
            std::fs::write(&file, bytes).unwrap();
            // --data-binary would make it a POST form; -T sends the file as is.
            curl.arg("-T").arg(&file);
        }
        curl.args(extra).arg(url);
        let output = curl.output().expect("curl runs");
        assert!(
            output.status.success(),
            "curl {method} {url}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let status = String::from_utf8_lossy(&output.stdout).parse().unwrap();
        Reply {
            status,
            headers: parse_headers(&headers),
            body: std::fs::read(&body).unwrap_or_default(),
        }
    }

    fn swift(&self, method: &str, path: &str, upload: Option<&[u8]>) -> Reply {
        let url = format!("{}/{path}", self.swift.storage_url);
        self.request(Api::Swift, method, &url, upload, &[])
    }

    fn s3(&self, method: &str, path: &str, upload: Option<&[u8]>) -> Reply {
        let url = format!("{}/{path}", self.swift.s3_endpoint);
        self.request(Api::S3, method, &url, upload, &[])
    }
}

/// The last response's headers in a `curl -D` file (a 100 Continue comes
/// first on an upload).
fn parse_headers(file: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let last = text
        .trim_end()
        .rsplit("\r\n\r\n")
        .next()
        .unwrap_or_default();
    last.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect()
}

fn md5_hex(bytes: &[u8]) -> String {
    let output = Command::new("md5sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(bytes)?;
            child.wait_with_output()
        })
        .unwrap();
    String::from_utf8_lossy(&output.stdout)[..32].to_owned()
}

#[test]
fn objects_through_the_swift_api() {
    let swift = Swift::shared();
    let client = Client::new(swift);
    swift.create_container("swift-api");
    let data = noise(100_000, 1);

    let put = client.swift("PUT", "swift-api/dir/a", Some(&data));
    assert_eq!(put.status, 201, "{}", put.text());
    assert_eq!(put.header("etag"), Some(md5_hex(&data).as_str()));

    let head = client.swift("HEAD", "swift-api/dir/a", None);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("100000"));

    let get = client.swift("GET", "swift-api/dir/a", None);
    assert_eq!(get.status, 200);
    assert!(get.body == data, "the object comes back byte for byte");

    let url = format!("{}/swift-api/dir/a", swift.storage_url);
    let ranged = client.request(
        Api::Swift,
        "GET",
        &url,
        None,
        &["-H", "Range: bytes=1000-1999"],
    );
    assert_eq!(ranged.status, 206);
    assert!(ranged.body == data[1000..2000]);

    for name in ["dir/sub/b", "dir/sub/c", "dirt", "other"] {
        assert_eq!(
            client
                .swift("PUT", &format!("swift-api/{name}"), Some(b"x"))
                .status,
            201
        );
    }
    let listing = client.swift("GET", "swift-api?prefix=dir/&delimiter=/", None);
    assert_eq!(listing.status, 200);
    assert_eq!(
        listing.text(),
        "dir/a\ndir/sub/\n",
        "one entry per object or prefix"
    );

    assert_eq!(client.swift("DELETE", "swift-api/dir/a", None).status, 204);
    assert_eq!(client.swift("HEAD", "swift-api/dir/a", None).status, 404);
    assert_eq!(client.swift("GET", "swift-api/dir/a", None).status, 404);
    let listing = client.swift("GET", "swift-api?prefix=dir/&delimiter=/", None);
    assert_eq!(listing.text(), "dir/sub/\n");
}

#[test]
fn objects_through_s3_are_objects_of_swift() {
    let swift = Swift::shared();
    let client = Client::new(swift);
    swift.create_container("s3-api");
    let data = noise(70_000, 2);

    let put = client.s3("PUT", "s3-api/dir/a", Some(&data));
    assert_eq!(put.status, 200, "{}", put.text());
    let head = client.s3("HEAD", "s3-api/dir/a", None);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("70000"));
    let get = client.s3("GET", "s3-api/dir/a", None);
    assert_eq!(get.status, 200);
    assert!(get.body == data);
    // Written through S3, read through Swift, and the other way round.
    assert!(client.swift("GET", "s3-api/dir/a", None).body == data);
    assert_eq!(
        client.swift("PUT", "s3-api/dir/sub/b", Some(b"b")).status,
        201
    );
    assert_eq!(client.s3("GET", "s3-api/dir/sub/b", None).body, b"b");
    assert_eq!(client.s3("PUT", "s3-api/dirt", Some(b"t")).status, 200);

    let listing = client.s3(
        "GET",
        "s3-api?delimiter=%2F&list-type=2&prefix=dir%2F",
        None,
    );
    assert_eq!(listing.status, 200, "{}", listing.text());
    let xml = listing.text();
    assert!(xml.contains("<Key>dir/a</Key>"), "{xml}");
    assert!(xml.contains("<Size>70000</Size>"), "{xml}");
    assert!(
        xml.contains("<CommonPrefixes><Prefix>dir/sub/</Prefix></CommonPrefixes>"),
        "{xml}"
    );
    assert_eq!(
        xml.matches("<Key>").count(),
        1,
        "dirt and dir/sub/b are not in it: {xml}"
    );

    assert_eq!(client.s3("DELETE", "s3-api/dir/a", None).status, 204);
    assert_eq!(client.s3("HEAD", "s3-api/dir/a", None).status, 404);
    assert_eq!(client.swift("HEAD", "s3-api/dir/a", None).status, 404);
}

#[test]
fn a_static_large_object_exists_once_its_manifest_is_put() {
    let swift = Swift::shared();
    let client = Client::new(swift);
    swift.create_container("slo");
    swift.create_container("slo-segments");
    let data = noise(3 * 1024 * 1024 + 5, 3);
    let parts: Vec<&[u8]> = data.chunks(1024 * 1024).collect();
    let mut manifest = Vec::new();
    for (number, part) in parts.iter().enumerate() {
        let path = format!("slo-segments/big/{number:08}");
        let put = client.swift("PUT", &path, Some(part));
        assert_eq!(put.status, 201);
        manifest.push(format!(
            r#"{{"path": "/{path}", "etag": "{}", "size_bytes": {}}}"#,
            put.header("etag").unwrap(),
            part.len()
        ));
        assert_eq!(
            client.swift("HEAD", "slo/big", None).status,
            404,
            "not before the manifest"
        );
    }
    let manifest = format!("[{}]", manifest.join(", "));
    let put = client.swift(
        "PUT",
        "slo/big?multipart-manifest=put",
        Some(manifest.as_bytes()),
    );
    assert_eq!(put.status, 201, "{}", put.text());
    let get = client.swift("GET", "slo/big", None);
    assert_eq!(get.status, 200);
    assert_eq!(
        get.header("content-length"),
        Some(data.len().to_string().as_str())
    );
    assert!(get.body == data, "the segments joined, byte for byte");

    // Deleting the manifest with its segments leaves no segment behind.
    let delete = client.swift("DELETE", "slo/big?multipart-manifest=delete", None);
    assert_eq!(delete.status, 200, "{}", delete.text());
    assert_eq!(client.swift("HEAD", "slo/big", None).status, 404);
    assert_eq!(
        client.swift("GET", "slo-segments?prefix=big/", None).status,
        204
    );
}

#[test]
fn an_s3_multipart_upload_exists_once_completed_and_an_aborted_one_leaves_nothing() {
    let swift = Swift::shared();
    let client = Client::new(swift);
    swift.create_container("multipart");
    // s3api's parts are 5 MiB at least, but for the last.
    let data = noise(5 * 1024 * 1024 + 1000, 4);
    let (first, last) = data.split_at(5 * 1024 * 1024);

    let upload_id = |reply: Reply| -> String {
        let xml = reply.text();
        assert_eq!(reply.status, 200, "{xml}");
        let start = xml.find("<UploadId>").unwrap() + "<UploadId>".len();
        let end = xml.find("</UploadId>").unwrap();
        xml[start..end].to_owned()
    };
    let id = upload_id(client.s3("POST", "multipart/big?uploads=", None));
    let mut etags = Vec::new();
    for (number, part) in [(1, first), (2, last)] {
        let path = format!("multipart/big?partNumber={number}&uploadId={id}");
        let put = client.s3("PUT", &path, Some(part));
        assert_eq!(put.status, 200, "{}", put.text());
        etags.push(put.header("etag").unwrap().to_owned());
        assert_eq!(
            client.s3("HEAD", "multipart/big", None).status,
            404,
            "not before completion"
        );
    }
    let complete = format!(
        "<CompleteMultipartUpload>{}</CompleteMultipartUpload>",
        etags
            .iter()
            .enumerate()
            .map(|(index, etag)| format!(
                "<Part><PartNumber>{}</PartNumber><ETag>{etag}</ETag></Part>",
                index + 1
            ))
            .collect::<String>()
    );
    let done = client.s3(
        "POST",
        &format!("multipart/big?uploadId={id}"),
        Some(complete.as_bytes()),
    );
    assert_eq!(done.status, 200, "{}", done.text());
    let get = client.s3("GET", "multipart/big", None);
    assert_eq!(get.status, 200);
    assert!(get.body == data);
    assert!(
        client.swift("GET", "multipart/big", None).body == data,
        "an SLO in Swift"
    );

    let aborted = upload_id(client.s3("POST", "multipart/gone?uploads=", None));
    let path = format!("multipart/gone?partNumber=1&uploadId={aborted}");
    assert_eq!(client.s3("PUT", &path, Some(first)).status, 200);
    let abort = client.s3(
        "DELETE",
        &format!("multipart/gone?uploadId={aborted}"),
        None,
    );
    assert_eq!(abort.status, 204, "{}", abort.text());
    assert_eq!(client.s3("HEAD", "multipart/gone", None).status, 404);
    let segments = client.swift("GET", "multipart+segments?prefix=gone/", None);
    assert_eq!(
        segments.status,
        204,
        "no orphan segment: {}",
        segments.text()
    );
}

#[test]
fn a_stopped_swift_leaves_no_process_behind() {
    let swift = Swift::start();
    let client = Client::new(&swift);
    assert_eq!(client.swift("HEAD", &swift.container, None).status, 204);
    let token = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(["-H", &format!("X-Auth-User: {}", swift.user)])
        .args(["-H", &format!("X-Auth-Key: {}", swift.key)])
        .arg(&swift.auth_url)
        .output()
        .unwrap();
    assert_eq!(token.stdout, b"200", "tempauth hands out tokens");
    let pids: Vec<u32> = std::fs::read_dir(swift.dir().join("pid"))
        .unwrap()
        .map(|entry| {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            text.split_whitespace().next().unwrap().parse().unwrap()
        })
        .collect();
    // memcached, account, container, object, proxy and the watcher.
    assert_eq!(pids.len(), 6);
    assert!(pids
        .iter()
        .all(|pid| Path::new(&format!("/proc/{pid}")).exists()));
    let dir = swift.dir().to_owned();
    drop(swift);
    for pid in pids {
        // Gone, or a zombie until whoever inherited it from the script reaps it.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rsplit_once(") ").map(|(_, rest)| &rest[..1]);
        assert!(
            matches!(state, None | Some("Z")),
            "process {pid} still runs: {stat}"
        );
    }
    assert!(!dir.exists(), "the temporary directory is removed");
}

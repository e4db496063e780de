import Crypto
import Foundation
import Logging
import Testing
@testable import EC2BootKit

/// A real S3 on loopback: moto's server (`tools/s3/moto_s3.py`), started once for the test
/// process, checking every request's SigV4 signature, session token and the role's policy. The
/// IMDS simulator serves the very credentials moto issued for the role, as EC2 serves an
/// instance profile's.
enum MotoS3 {
    static let bucket = "ec2boot-actions"
    static let files = [
        "hello.sh": "#!/bin/sh\necho hello from s3 > \"$EC2BOOT_ROOT/from-s3\"\n",
        "second.sh": "#!/bin/sh\necho second\n",
        "key with space.txt": "spaced\n",
    ]

    static let started: Result<(port: Int, credentials: String, peer: Peer), PeerFailed> = {
        do {
            let dir = try TestEnv.tempDir("moto")
            for (name, body) in files { try TestEnv.write(body, to: dir + "/files/" + name) }
            try TestEnv.write(ActionListFixture.list(files.filter { $0.key.hasSuffix(".sh") }), to: dir + "/files/list.txt")
            let credentials = dir + "/credentials.json"
            let script = TestEnv.repoRoot.appendingPathComponent("tools/s3/moto_s3.py").path
            let peer = try Peer([TestEnv.python, script, "--files", dir + "/files", "--bucket", bucket, "--credentials", credentials,
                                 "--parent", String(getpid())], quiet: true)
            return .success((peer.port, credentials, peer))
        } catch {
            return .failure(PeerFailed(output: "\(error)"))
        }
    }()
}

/// A list.txt naming each file with its sha256.
enum ActionListFixture {
    static func list(_ files: [String: String]) -> String {
        files.keys.sorted().map { "\($0) \(sha256Hex($0, files))\n" }.joined()
    }

    static func sha256Hex(_ name: String, _ files: [String: String]) -> String {
        SHA256.hash(data: Data(files[name]!.utf8)).hex
    }
}

extension PeerTier {
    @Suite struct S3Tests {
        // AWS's own example (S3 API reference, "Example: GET Object"): a GET of the first 10 bytes of
        // examplebucket/test.txt, signed at 2013-05-24T00:00:00Z.
        @Test func sigV4MatchesAWSsWorkedExample() {
            let credentials = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
            let headers = SigV4(region: "us-east-1").headers(url: URL(string: "https://examplebucket.s3.amazonaws.com/test.txt")!,
                                                             extra: ["Range": "bytes=0-9"], credentials: credentials,
                                                             date: Date(timeIntervalSince1970: 1_369_353_600))
            #expect(headers["Authorization"] == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
            #expect(headers["x-amz-date"] == "20130524T000000Z")
            #expect(headers["host"] == nil, "curl sends Host itself")
        }

        @Test func keysAreEncodedOnceAndTheSessionTokenIsSigned() {
            let url = URL(string: "http://127.0.0.1:9000/b/dir/key%20with%20space+x.txt")!
            #expect(SigV4.canonicalPath(url) == "/b/dir/key%20with%20space%2Bx.txt")
            #expect(SigV4.hostHeader(url) == "127.0.0.1:9000")
            #expect(SigV4.hostHeader(URL(string: "https://b.s3.eu-west-1.amazonaws.com:443/k")!) == "b.s3.eu-west-1.amazonaws.com")
            let signed = SigV4(region: "eu-west-1").headers(url: url, credentials: AWSCredentials(accessKeyID: "A", secretAccessKey: "S",
                                                                                                  sessionToken: "T"))
            #expect(signed["x-amz-security-token"] == "T")
            #expect(signed["Authorization"]?.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,") == true)
        }

        /// A root whose user-data the IMDS simulator serves, with the role's credentials from moto.
        func instance(userData: String, config: String, credentials: String, name: String = #function) throws -> (Simulator, String) {
            let root = try makeRoot(name, config: config)
            try TestEnv.write(userData, to: root + "/user-data.yaml")
            let sim = try Simulator(["--user-data", root + "/user-data.yaml", "--role-credentials", credentials])
            return (sim, root)
        }

        /// Everything the run wrote, and what it logged, holds neither the secret key nor the token.
        func expectNoSecrets(_ root: String, _ log: String, credentials: String) throws {
            let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: credentials))) as! [String: String]
            let secrets = [document["SecretAccessKey"]!, document["Token"]!]
            for secret in secrets { #expect(!log.contains(secret), "the log shows a secret") }
            let files = FileManager.default.enumerator(atPath: root)!.compactMap { $0 as? String }
            for file in files {
                guard let text = TestEnv.read(root + "/" + file) else { continue }
                for secret in secrets { #expect(!text.contains(secret), "\(file) holds a secret") }
            }
        }

        @Test func getactionsInstallsAPrivateBucketsFilesWithTheInstanceRole() async throws {
            let moto = try MotoS3.started.get()
            let (sim, root) = try instance(userData: """
                :actions:
                - :type: :getactions
                  :url: s3://\(MotoS3.bucket)/boot/
                  :list: list.txt
                - :type: hello.sh
                """, config: "s3:\n  endpoint: http://127.0.0.1:\(moto.port)\n", credentials: moto.credentials)
            let result = try tool(["run", "--root", root, "--metadata-url", sim.url, "--log-level", "debug"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/from-s3") == "hello from s3\n")
            #expect(TestEnv.read(root + "/etc/ec2-boot-init/actions/second.sh") == MotoS3.files["second.sh"])
            #expect(result.stderr.contains("endpoint=http://127.0.0.1:\(moto.port)/\(MotoS3.bucket)/boot/list.txt"), "path-style for a custom endpoint")
            // The region came from the metadata the run had already crawled, and the keys were asked for once.
            let stats = try await sim.stats()
            #expect(stats.by_path["/latest/meta-data/iam/security-credentials/web-role"] == 1)
            #expect(stats.by_path["/latest/meta-data/placement/region"] == 1, "the crawl's own request only")
            try expectNoSecrets(root, result.stderr, credentials: moto.credentials)
        }

        @Test func fetchReachesAVirtualHostedBucketAndAsksIMDSForTheRegion() async throws {
            let moto = try MotoS3.started.get()
            // curl resolves any *.localhost to loopback, so the bucket's own host name reaches moto.
            let (sim, root) = try instance(userData: "", config: "s3:\n  endpoint: http://localhost:\(moto.port)\n  addressing: virtual\n",
                                           credentials: moto.credentials)
            let dest = root + "/got.txt"
            let result = try tool(["fetch", "--root", root, "--metadata-url", sim.url, "--log-level", "debug", "-", dest],
                                  stdin: "s3://\(MotoS3.bucket)/boot/key%20with%20space.txt\n")
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(dest) == "spaced\n")
            #expect(result.stderr.contains("endpoint=http://\(MotoS3.bucket).localhost:\(moto.port)/boot/key%20with%20space.txt"), "\(result.stderr)")
            #expect(try await sim.stats().by_path["/latest/meta-data/placement/region"] == 1)
            try expectNoSecrets(root, result.stderr, credentials: moto.credentials)
        }

        @Test func aWrongSignatureAndAMissingKeyAreClearErrors() async throws {
            let moto = try MotoS3.started.get()
            var document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: moto.credentials))) as! [String: String]
            document["SecretAccessKey"] = "not" + document["SecretAccessKey"]!
            let wrong = try TestEnv.tempDir() + "/wrong.json"
            try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: wrong))
            let (sim, root) = try instance(userData: "", config: "s3:\n  endpoint: http://127.0.0.1:\(moto.port)\n  region: eu-west-1\n",
                                           credentials: wrong)
            try TestEnv.write("kept\n", to: root + "/dest")
            let refused = try tool(["fetch", "--root", root, "--metadata-url", sim.url, "s3://\(MotoS3.bucket)/boot/hello.sh", root + "/dest"])
            #expect(refused.status == 1, "\(refused.stderr)")
            #expect(refused.stderr.contains("s3://\(MotoS3.bucket)/boot/hello.sh: HTTP 403 (SignatureDoesNotMatch: "), "\(refused.stderr)")
            #expect(!refused.stderr.contains("waiting up to"), "a refusal is not retried")
            #expect(TestEnv.read(root + "/dest") == "kept\n")
            #expect(try await sim.stats().by_path["/latest/meta-data/placement/region"] == nil, "s3.region was given")

            let (good, goodRoot) = try instance(userData: "", config: "s3:\n  endpoint: http://127.0.0.1:\(moto.port)\n",
                                                credentials: moto.credentials)
            let missing = try tool(["fetch", "--root", goodRoot, "--metadata-url", good.url, "s3://\(MotoS3.bucket)/boot/missing.sh",
                                    goodRoot + "/dest"])
            #expect(missing.status == 4, "\(missing.stderr)")
            #expect(missing.stderr.contains("s3://\(MotoS3.bucket)/boot/missing.sh: HTTP 404 (NoSuchKey: "), "\(missing.stderr)")
            #expect(!FileManager.default.fileExists(atPath: goodRoot + "/dest"))
        }

        @Test func credentialsAreRenewedNearTheirExpiryAndNoMoreOften() async throws {
            let moto = try MotoS3.started.get()
            var document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: moto.credentials))) as! [String: String]
            let expires = Date().addingTimeInterval(3600)
            document["Expiration"] = ISO8601DateFormatter().string(from: expires)
            let file = try TestEnv.tempDir() + "/creds.json"
            try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: file))
            let sim = try Simulator(["--role-credentials", file])
            let keys = InstanceCredentials(baseURL: URL(string: sim.url)!, settings: IMDSSettings(), logger: Logger(label: "test"))
            let path = "/latest/meta-data/iam/security-credentials/web-role"
            let now = Date()
            #expect(try await keys.credentials(now: now).accessKeyID == document["AccessKeyId"])
            #expect(try await keys.credentials(now: now.addingTimeInterval(60)).sessionToken == document["Token"])
            #expect(try await sim.stats().by_path[path] == 1, "held while far from expiry")
            // Four minutes before expiry (inside the five-minute margin): asked again, then not
            // again within ten seconds, then again.
            let late = expires.addingTimeInterval(-240)
            _ = try await keys.credentials(now: late)
            _ = try await keys.credentials(now: late.addingTimeInterval(5))
            #expect(try await sim.stats().by_path[path] == 2)
            _ = try await keys.credentials(now: late.addingTimeInterval(15))
            #expect(try await sim.stats().by_path[path] == 3)
        }

        @Test func noRoleAndUnusableKeysAreClearErrors() async throws {
            let bare = try Simulator(["--no-role"])
            let root = try makeRoot(config: "s3:\n  endpoint: http://127.0.0.1:9\n  region: eu-west-1\n")
            let none = try tool(["fetch", "--root", root, "--metadata-url", bare.url, "s3://\(MotoS3.bucket)/k", root + "/dest"])
            #expect(none.status == 1, "\(none.stderr)")
            #expect(none.stderr.contains("this instance has no IAM role"), "\(none.stderr)")

            let empty = try Simulator(["--role-credentials", "/dev/null"])
            let result = try tool(["fetch", "--root", root, "--metadata-url", empty.url, "s3://\(MotoS3.bucket)/k", root + "/dest"])
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stderr.contains("the credentials of the role web-role from instance metadata are not usable (0 bytes)"), "\(result.stderr)")
        }

        // moto's own signature check re-encodes such keys its own way (boto3 itself is refused for
        // `a+b=c(1).txt` by moto 5.2), so this is shown without it: the path the request carries is
        // byte for byte the path the signature covers, in botocore's encoding of the key.
        @Test func theRequestCarriesTheKeyInTheEncodingItSigned() async throws {
            var settings = S3Settings()
            settings.endpoint = "http://127.0.0.1:9000"
            settings.region = "eu-west-1"
            let access = S3Access(settings: settings, credentials: InstanceCredentials(baseURL: URL(string: "http://127.0.0.1:9")!,
                                                                                        settings: IMDSSettings(), logger: Logger(label: "test")))
            let (target, _) = try await access.resolve(URL(string: "s3://b-1/dir/a+b=c(1)%20x.txt")!, logger: Logger(label: "test"))
            #expect(target.absoluteString == "http://127.0.0.1:9000/b-1/dir/a%2Bb%3Dc%281%29%20x.txt")
            #expect(target.path(percentEncoded: true) == SigV4.canonicalPath(target))
            let (leading, _) = try await access.resolve(URL(string: "s3://b-1//x")!, logger: Logger(label: "test"))
            #expect(leading.absoluteString == "http://127.0.0.1:9000/b-1//x", "a key may start with a slash")

            let root = try makeRoot()
            let dots = try tool(["fetch", "--root", root, "s3://\(MotoS3.bucket)/boot/../x", root + "/got"])
            #expect(dots.status == 1, "\(dots.stderr)")
            #expect(dots.stderr.contains("a key with . or .. segments"), "\(dots.stderr)")
        }
    }
}

import Testing

// The test tiers (CONTRIBUTING.md, "Test tiers"): each suite is nested in one, so its id names
// the tier (`EC2BootKitTests.PeerTier/PuppetTests/…`) and `scripts/test.sh --fast` skips a tier
// by that name. A file's folder says its tier too.

/// No process: the library's pure parts.
@Suite enum UnitTier {}
/// The built binary and local servers on 127.0.0.1 (IMDS simulator, file server, /bin/sh, ruby).
@Suite enum ProcessTier {}
/// Real puppetserver, RabbitMQ, ActiveMQ, ZooKeeper and moto's S3, started once per test process.
@Suite enum PeerTier {}

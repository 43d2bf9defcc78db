//! The large failing template both benchmarks use, generated: the same text as
//! scripts/bench-policy writes (keep the two in step). Included with `#[path]`.

use std::fmt::Write as _;

/// `n` S3 buckets without encryption or public access block (half without versioning), `n`
/// SQS queues without server-side encryption and `n` security groups that open SSH to
/// 0.0.0.0/0: every resource fails at least one rule of the built-in pack.
pub fn generate(n: usize) -> String {
    let mut t = String::new();
    let w = &mut t;
    w.push_str("AWSTemplateFormatVersion: '2010-09-09'\n");
    let _ = writeln!(
        w,
        "Description: >-\n  proctor policy benchmark: {n} S3 buckets, {n} SQS queues and {n} security groups,\n  every one of them failing at least one rule of the built-in pack"
    );
    w.push_str(
        "Parameters:\n  Environment:\n    Type: String\n    Default: staging\n  VpcId:\n    Type: AWS::EC2::VPC::Id\n  DeadLetterQueueArn:\n    Type: String\n",
    );
    w.push_str("Resources:\n");
    const TAGS: &str = "      Tags:\n        - Key: owner\n          Value: storefront-team\n        - Key: cost-center\n          Value: cc-1042\n";
    for i in 0..n {
        let _ = write!(
            w,
            "  AssetsBucket{i:04}:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n    Properties:\n      BucketName: !Sub 'acme-assets-{i:04}-${{Environment}}-${{AWS::AccountId}}'\n"
        );
        if i % 2 == 0 {
            w.push_str("      VersioningConfiguration:\n        Status: Enabled\n");
        }
        w.push_str(TAGS);
    }
    for i in 0..n {
        let _ = write!(
            w,
            "  JobsQueue{i:04}:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sub 'jobs-{i:04}-${{Environment}}'\n      VisibilityTimeout: 120\n      MessageRetentionPeriod: 1209600\n      RedrivePolicy:\n        deadLetterTargetArn: !Ref DeadLetterQueueArn\n        maxReceiveCount: 5\n"
        );
        w.push_str(TAGS);
    }
    for i in 0..n {
        let _ = write!(
            w,
            "  WorkerSecurityGroup{i:04}:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: worker {i:04}\n      VpcId: !Ref VpcId\n      SecurityGroupIngress:\n"
        );
        w.push_str("        - IpProtocol: tcp\n          FromPort: 443\n          ToPort: 443\n          CidrIp: 10.0.0.0/8\n");
        w.push_str("        - IpProtocol: tcp\n          FromPort: 22\n          ToPort: 22\n          CidrIp: 0.0.0.0/0\n");
    }
    w.push_str("Outputs:\n  FirstBucket:\n    Value: !Ref AssetsBucket0000\n");
    t
}

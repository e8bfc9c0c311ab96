/**
 * The trust boundary written out: every statement of every stage policy and of the AMI build, for
 * fixed settings. A change of grants fails here until the table is updated on purpose, in review.
 */
import { strict as assert } from "assert";
import { amiBuildPolicy, stagePolicy, type PolicyStatement } from "../../aws/iam-policies";
import { readAwsSettings } from "../../aws/settings";

const settings = readAwsSettings((key) => ({ awsAccountId: "111122223333" })[key], "test");

const PREMERGE: PolicyStatement[] = [
    {
        "Sid": "EcrPublicLogin",
        "Effect": "Allow",
        "Action": [
            "ecr-public:GetAuthorizationToken",
            "sts:GetServiceBearerToken"
        ],
        "Resource": [
            "*"
        ]
    },
    {
        "Sid": "PushCiImages",
        "Effect": "Allow",
        "Action": [
            "ecr-public:BatchCheckLayerAvailability",
            "ecr-public:InitiateLayerUpload",
            "ecr-public:UploadLayerPart",
            "ecr-public:CompleteLayerUpload",
            "ecr-public:PutImage"
        ],
        "Resource": [
            "arn:aws:ecr-public::111122223333:repository/vllm-ci-test-repo"
        ]
    },
    {
        "Sid": "EcrLogin",
        "Effect": "Allow",
        "Action": [
            "ecr:GetAuthorizationToken"
        ],
        "Resource": [
            "*"
        ]
    },
    {
        "Sid": "ReadWritePullRequestCache",
        "Effect": "Allow",
        "Action": [
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:PutImage"
        ],
        "Resource": [
            "arn:aws:ecr:us-east-1:111122223333:repository/vllm-ci-test-cache"
        ]
    },
    {
        "Sid": "ReadPostmergeCache",
        "Effect": "Allow",
        "Action": [
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer"
        ],
        "Resource": [
            "arn:aws:ecr:us-east-1:111122223333:repository/vllm-ci-postmerge-cache"
        ]
    },
    {
        "Sid": "ReadCompilerCacheList",
        "Effect": "Allow",
        "Action": [
            "s3:ListBucket"
        ],
        "Resource": [
            "arn:aws:s3:::vllm-build-sccache"
        ]
    },
    {
        "Sid": "ReadCompilerCacheObjects",
        "Effect": "Allow",
        "Action": [
            "s3:GetObject"
        ],
        "Resource": [
            "arn:aws:s3:::vllm-build-sccache/*"
        ]
    },
    {
        "Sid": "ReadCiSecrets",
        "Effect": "Allow",
        "Action": [
            "secretsmanager:GetSecretValue",
            "secretsmanager:DescribeSecret"
        ],
        "Resource": [
            "arn:aws:secretsmanager:us-west-2:111122223333:secret:ci/hf-token-??????",
            "arn:aws:secretsmanager:us-west-2:111122223333:secret:ci/buildkite-analytics-token-??????"
        ]
    }
];

/** Postmerge can do all premerge can, and this. */
const POSTMERGE_ONLY: PolicyStatement[] = [
    {
        "Sid": "PushPostmergeImages",
        "Effect": "Allow",
        "Action": [
            "ecr-public:BatchCheckLayerAvailability",
            "ecr-public:InitiateLayerUpload",
            "ecr-public:UploadLayerPart",
            "ecr-public:CompleteLayerUpload",
            "ecr-public:PutImage"
        ],
        "Resource": [
            "arn:aws:ecr-public::111122223333:repository/vllm-ci-postmerge-repo"
        ]
    },
    {
        "Sid": "WritePostmergeCache",
        "Effect": "Allow",
        "Action": [
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:CompleteLayerUpload",
            "ecr:PutImage"
        ],
        "Resource": [
            "arn:aws:ecr:us-east-1:111122223333:repository/vllm-ci-postmerge-cache"
        ]
    },
    {
        "Sid": "WriteCompilerCache",
        "Effect": "Allow",
        "Action": [
            "s3:PutObject"
        ],
        "Resource": [
            "arn:aws:s3:::vllm-build-sccache/*"
        ]
    },
    {
        "Sid": "WheelsList",
        "Effect": "Allow",
        "Action": [
            "s3:ListBucket"
        ],
        "Resource": [
            "arn:aws:s3:::vllm-wheels",
            "arn:aws:s3:::vllm-wheels-dev"
        ]
    },
    {
        "Sid": "WriteWheels",
        "Effect": "Allow",
        "Action": [
            "s3:GetObject",
            "s3:PutObject"
        ],
        "Resource": [
            "arn:aws:s3:::vllm-wheels/*",
            "arn:aws:s3:::vllm-wheels-dev/*"
        ]
    }
];

const RELEASE: PolicyStatement[] = [
    {
        "Sid": "EcrPublicLogin",
        "Effect": "Allow",
        "Action": [
            "ecr-public:GetAuthorizationToken",
            "sts:GetServiceBearerToken"
        ],
        "Resource": [
            "*"
        ]
    },
    {
        "Sid": "PushReleaseImages",
        "Effect": "Allow",
        "Action": [
            "ecr-public:BatchCheckLayerAvailability",
            "ecr-public:InitiateLayerUpload",
            "ecr-public:UploadLayerPart",
            "ecr-public:CompleteLayerUpload",
            "ecr-public:PutImage"
        ],
        "Resource": [
            "arn:aws:ecr-public::111122223333:repository/vllm-release-repo"
        ]
    },
    {
        "Sid": "ReleaseWheelsList",
        "Effect": "Allow",
        "Action": [
            "s3:ListBucket"
        ],
        "Resource": [
            "arn:aws:s3:::vllm-wheels"
        ]
    },
    {
        "Sid": "WriteReleaseWheels",
        "Effect": "Allow",
        "Action": [
            "s3:GetObject",
            "s3:PutObject"
        ],
        "Resource": [
            "arn:aws:s3:::vllm-wheels/*"
        ]
    }
];

const STAGES = { premerge: PREMERGE, postmerge: [...PREMERGE, ...POSTMERGE_ONLY], release: RELEASE } as const;

const AMI_BUILD = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DescribeForAmiBuild",
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceStatus",
                "ec2:DescribeSnapshots",
                "ec2:DescribeVolumes",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeKeyPairs",
                "ec2:DescribeRegions",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribeLaunchTemplateVersions",
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeInstanceRefreshes"
            ],
            "Resource": [
                "*"
            ]
        },
        {
            "Sid": "LaunchTaggedBuilder",
            "Effect": "Allow",
            "Action": [
                "ec2:RunInstances"
            ],
            "Resource": [
                "arn:aws:ec2:us-east-1:111122223333:instance/*",
                "arn:aws:ec2:us-east-1:111122223333:volume/*"
            ],
            "Condition": {
                "StringEquals": {
                    "aws:RequestTag/vllm-ci:purpose": "warm-cache-ami-build"
                }
            }
        },
        {
            "Sid": "LaunchBuilderInto",
            "Effect": "Allow",
            "Action": [
                "ec2:RunInstances"
            ],
            "Resource": [
                "arn:aws:ec2:us-east-1:111122223333:subnet/subnet-1",
                "arn:aws:ec2:us-east-1:111122223333:security-group/sg-1",
                "arn:aws:ec2:us-east-1:111122223333:network-interface/*",
                "arn:aws:ec2:us-east-1:111122223333:key-pair/packer_*",
                "arn:aws:ec2:us-east-1::image/*"
            ]
        },
        {
            "Sid": "TagBuilderAtLaunch",
            "Effect": "Allow",
            "Action": [
                "ec2:CreateTags"
            ],
            "Resource": [
                "arn:aws:ec2:us-east-1:111122223333:instance/*",
                "arn:aws:ec2:us-east-1:111122223333:volume/*"
            ],
            "Condition": {
                "StringEquals": {
                    "ec2:CreateAction": "RunInstances"
                }
            }
        },
        {
            "Sid": "ImageAndStopBuilder",
            "Effect": "Allow",
            "Action": [
                "ec2:CreateImage",
                "ec2:StopInstances",
                "ec2:TerminateInstances"
            ],
            "Resource": [
                "arn:aws:ec2:us-east-1:111122223333:instance/*"
            ],
            "Condition": {
                "StringEquals": {
                    "aws:ResourceTag/vllm-ci:purpose": "warm-cache-ami-build"
                }
            }
        },
        {
            "Sid": "CreateAmi",
            "Effect": "Allow",
            "Action": [
                "ec2:CreateImage",
                "ec2:CreateTags"
            ],
            "Resource": [
                "arn:aws:ec2:us-east-1::image/*",
                "arn:aws:ec2:us-east-1::snapshot/*"
            ]
        },
        {
            "Sid": "BuilderKeyPair",
            "Effect": "Allow",
            "Action": [
                "ec2:CreateKeyPair",
                "ec2:DeleteKeyPair"
            ],
            "Resource": [
                "arn:aws:ec2:us-east-1:111122223333:key-pair/packer_*"
            ]
        },
        {
            "Sid": "ReadAmiBuildParameters",
            "Effect": "Allow",
            "Action": [
                "ssm:GetParameter",
                "ssm:GetParameters"
            ],
            "Resource": [
                "arn:aws:ssm:us-east-1:111122223333:parameter/ami",
                "arn:aws:ssm:us-east-1:111122223333:parameter/p/sg",
                "arn:aws:ssm:us-east-1:111122223333:parameter/p/subnet"
            ]
        },
        {
            "Sid": "PublishAmi",
            "Effect": "Allow",
            "Action": [
                "ssm:PutParameter"
            ],
            "Resource": [
                "arn:aws:ssm:us-east-1:111122223333:parameter/ami"
            ]
        },
        {
            "Sid": "RollLaunchTemplates",
            "Effect": "Allow",
            "Action": [
                "ec2:CreateLaunchTemplateVersion",
                "ec2:ModifyLaunchTemplate",
                "ec2:RunInstances"
            ],
            "Resource": [
                "arn:aws:ec2:us-east-1:111122223333:launch-template/*"
            ],
            "Condition": {
                "StringEquals": {
                    "aws:ResourceTag/aws:cloudformation:stack-name": [
                        "bk-a"
                    ]
                }
            }
        },
        {
            "Sid": "RollAutoScalingGroups",
            "Effect": "Allow",
            "Action": [
                "autoscaling:UpdateAutoScalingGroup",
                "autoscaling:StartInstanceRefresh"
            ],
            "Resource": [
                "arn:aws:autoscaling:us-east-1:111122223333:autoScalingGroup:*:autoScalingGroupName/asg-a"
            ]
        },
        {
            "Sid": "PassTargetRoles",
            "Effect": "Allow",
            "Action": [
                "iam:PassRole"
            ],
            "Resource": [
                "arn:aws:iam::111122223333:role/role-a"
            ],
            "Condition": {
                "StringEquals": {
                    "iam:PassedToService": "ec2.amazonaws.com"
                }
            }
        }
    ]
};

describe("IAM documents, written out", () => {
    for (const stage of ["premerge", "postmerge", "release"] as const) {
        it(`grant ${stage} exactly its statements`, () => {
            assert.deepEqual(stagePolicy(stage, { settings, region: "us-west-2" }), { Version: "2012-10-17", Statement: STAGES[stage] });
        });
    }

    it("grant the AMI build exactly its statements", () => {
        const document = amiBuildPolicy({
            region: "us-east-1",
            accountId: "111122223333",
            amiParameter: "/ami",
            builderParameters: ["/p/sg", "/p/subnet"],
            builderSubnetId: "subnet-1",
            builderSecurityGroupId: "sg-1",
            targets: [{ stackName: "bk-a", autoScalingGroupName: "asg-a", instanceRoleName: "role-a" }],
        });
        assert.deepEqual(document, AMI_BUILD);
    });
});

/**
 * The trust boundary written out: every statement of every access profile, of the compiler-cache
 * grants and of the AMI build, for fixed settings. A change of grants fails here until the table is
 * updated on purpose, in review. (tests/adopt/iam-parity.test.ts holds the same grants against
 * the Terraform fleet's, queue by queue.)
 */
import { strict as assert } from "assert";
import { ACCESS_PROFILES, amiBuildPolicy, capabilitiesPolicy, CAPABILITIES, type PolicyStatement } from "../../aws/iam-policies";
import { readAwsSettings } from "../../aws/settings";

const settings = readAwsSettings((key) => ({ awsAccountId: "111122223333" })[key as "awsAccountId"], "test");
const ctx = {
    settings,
    secretArns: ["arn:aws:secretsmanager:us-west-2:111122223333:secret:ci_hf_token-AbCdEf", "arn:aws:secretsmanager:us-west-2:111122223333:secret:bk_analytics_token-GhIjKl"],
};

const PREMERGE: PolicyStatement[] = [
    {
        "Sid": "PushCiImages",
        "Effect": "Allow",
        "Action": [
            "ecr-public:BatchCheckLayerAvailability",
            "ecr-public:CompleteLayerUpload",
            "ecr-public:DescribeImageTags",
            "ecr-public:DescribeImages",
            "ecr-public:DescribeRegistries",
            "ecr-public:DescribeRepositories",
            "ecr-public:GetAuthorizationToken",
            "ecr-public:GetRegistryCatalogData",
            "ecr-public:GetRepositoryCatalogData",
            "ecr-public:GetRepositoryPolicy",
            "ecr-public:InitiateLayerUpload",
            "ecr-public:ListTagsForResource",
            "ecr-public:PutImage",
            "ecr-public:PutRegistryCatalogData",
            "ecr-public:TagResource",
            "ecr-public:UploadLayerPart",
            "sts:GetServiceBearerToken"
        ],
        "Resource": [
            "arn:aws:ecr-public::111122223333:repository/vllm-ci-test-repo"
        ]
    },
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
        "Sid": "ReadWritePullRequestCache",
        "Effect": "Allow",
        "Action": [
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:CompleteLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:InitiateLayerUpload",
            "ecr:PutImage",
            "ecr:GetAuthorizationToken",
            "sts:GetServiceBearerToken"
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
            "ecr:GetDownloadUrlForLayer",
            "ecr:GetAuthorizationToken",
            "sts:GetServiceBearerToken"
        ],
        "Resource": [
            "arn:aws:ecr:us-east-1:111122223333:repository/vllm-ci-postmerge-cache"
        ]
    },
    {
        "Sid": "EcrLogin",
        "Effect": "Allow",
        "Action": [
            "ecr:GetAuthorizationToken",
            "sts:GetServiceBearerToken"
        ],
        "Resource": [
            "*"
        ]
    },
    {
        "Sid": "ReadCiSecrets",
        "Effect": "Allow",
        "Action": [
            "secretsmanager:GetSecretValue"
        ],
        "Resource": [
            "arn:aws:secretsmanager:us-west-2:111122223333:secret:ci_hf_token-AbCdEf",
            "arn:aws:secretsmanager:us-west-2:111122223333:secret:bk_analytics_token-GhIjKl"
        ]
    }
];

const GPU_TEST: PolicyStatement[] = [
    {
        "Sid": "PullCiImages",
        "Effect": "Allow",
        "Action": [
            "ecr-public:GetAuthorizationToken",
            "ecr-public:BatchCheckLayerAvailability",
            "ecr-public:GetDownloadUrlForLayer",
            "ecr-public:GetRepositoryCatalogData",
            "ecr-public:DescribeRepositories",
            "ecr-public:DescribeImageTags",
            "ecr-public:DescribeRegistries",
            "sts:GetServiceBearerToken"
        ],
        "Resource": [
            "*"
        ]
    },
    {
        "Sid": "ReadCiSecrets",
        "Effect": "Allow",
        "Action": [
            "secretsmanager:GetSecretValue"
        ],
        "Resource": [
            "arn:aws:secretsmanager:us-west-2:111122223333:secret:ci_hf_token-AbCdEf",
            "arn:aws:secretsmanager:us-west-2:111122223333:secret:bk_analytics_token-GhIjKl"
        ]
    }
];

const POSTMERGE: PolicyStatement[] = [
    {
        "Sid": "PushCiImages",
        "Effect": "Allow",
        "Action": [
            "ecr-public:BatchCheckLayerAvailability",
            "ecr-public:CompleteLayerUpload",
            "ecr-public:DescribeImageTags",
            "ecr-public:DescribeImages",
            "ecr-public:DescribeRegistries",
            "ecr-public:DescribeRepositories",
            "ecr-public:GetAuthorizationToken",
            "ecr-public:GetRegistryCatalogData",
            "ecr-public:GetRepositoryCatalogData",
            "ecr-public:GetRepositoryPolicy",
            "ecr-public:InitiateLayerUpload",
            "ecr-public:ListTagsForResource",
            "ecr-public:PutImage",
            "ecr-public:PutRegistryCatalogData",
            "ecr-public:TagResource",
            "ecr-public:UploadLayerPart",
            "sts:GetServiceBearerToken"
        ],
        "Resource": [
            "arn:aws:ecr-public::111122223333:repository/vllm-ci-test-repo"
        ]
    },
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
        "Sid": "PushPostmergeImages",
        "Effect": "Allow",
        "Action": [
            "ecr-public:BatchCheckLayerAvailability",
            "ecr-public:CompleteLayerUpload",
            "ecr-public:DescribeImageTags",
            "ecr-public:DescribeImages",
            "ecr-public:DescribeRegistries",
            "ecr-public:DescribeRepositories",
            "ecr-public:GetAuthorizationToken",
            "ecr-public:GetRegistryCatalogData",
            "ecr-public:GetRepositoryCatalogData",
            "ecr-public:GetRepositoryPolicy",
            "ecr-public:InitiateLayerUpload",
            "ecr-public:ListTagsForResource",
            "ecr-public:PutImage",
            "ecr-public:PutRegistryCatalogData",
            "ecr-public:TagResource",
            "ecr-public:UploadLayerPart",
            "sts:GetServiceBearerToken"
        ],
        "Resource": [
            "arn:aws:ecr-public::111122223333:repository/vllm-ci-postmerge-repo"
        ]
    },
    {
        "Sid": "ReadWritePostmergeCache",
        "Effect": "Allow",
        "Action": [
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:CompleteLayerUpload",
            "ecr:UploadLayerPart",
            "ecr:InitiateLayerUpload",
            "ecr:PutImage",
            "ecr:GetAuthorizationToken",
            "sts:GetServiceBearerToken"
        ],
        "Resource": [
            "arn:aws:ecr:us-east-1:111122223333:repository/vllm-ci-postmerge-cache"
        ]
    },
    {
        "Sid": "EcrLogin",
        "Effect": "Allow",
        "Action": [
            "ecr:GetAuthorizationToken",
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
            "ecr-public:CompleteLayerUpload",
            "ecr-public:DescribeImageTags",
            "ecr-public:DescribeImages",
            "ecr-public:DescribeRegistries",
            "ecr-public:DescribeRepositories",
            "ecr-public:GetAuthorizationToken",
            "ecr-public:GetRegistryCatalogData",
            "ecr-public:GetRepositoryCatalogData",
            "ecr-public:GetRepositoryPolicy",
            "ecr-public:InitiateLayerUpload",
            "ecr-public:ListTagsForResource",
            "ecr-public:PutImage",
            "ecr-public:PutRegistryCatalogData",
            "ecr-public:TagResource",
            "ecr-public:UploadLayerPart",
            "sts:GetServiceBearerToken"
        ],
        "Resource": [
            "arn:aws:ecr-public::111122223333:repository/vllm-release-repo",
            "arn:aws:ecr-public::111122223333:repository/vllm-omni-release-repo",
            "arn:aws:ecr-public::111122223333:repository/vllm-cpu-release-repo",
            "arn:aws:ecr-public::111122223333:repository/vllm-arm64-cpu-release-repo"
        ]
    },
    {
        "Sid": "ReadCiSecrets",
        "Effect": "Allow",
        "Action": [
            "secretsmanager:GetSecretValue"
        ],
        "Resource": [
            "arn:aws:secretsmanager:us-west-2:111122223333:secret:ci_hf_token-AbCdEf",
            "arn:aws:secretsmanager:us-west-2:111122223333:secret:bk_analytics_token-GhIjKl"
        ]
    },
    {
        "Sid": "ReadWriteWheels",
        "Effect": "Allow",
        "Action": [
            "s3:Get*",
            "s3:PutObject"
        ],
        "Resource": [
            "arn:aws:s3:::vllm-wheels/*",
            "arn:aws:s3:::vllm-wheels",
            "arn:aws:s3:::vllm-wheels-dev/*",
            "arn:aws:s3:::vllm-wheels-dev"
        ]
    }
];

const COMPILER_CACHE: PolicyStatement[] = [
    {
        "Sid": "ReadCompilerCache",
        "Effect": "Allow",
        "Action": [
            "s3:Get*"
        ],
        "Resource": [
            "arn:aws:s3:::vllm-build-sccache/*",
            "arn:aws:s3:::vllm-build-sccache"
        ]
    },
    {
        "Sid": "ReadWriteCompilerCache",
        "Effect": "Allow",
        "Action": [
            "s3:Get*",
            "s3:PutObject"
        ],
        "Resource": [
            "arn:aws:s3:::vllm-build-sccache/*",
            "arn:aws:s3:::vllm-build-sccache"
        ]
    }
];

const AMI_BUILD: PolicyStatement[] = [
    {
        "Sid": "DescribeResources",
        "Effect": "Allow",
        "Action": [
            "ec2:DescribeInstances",
            "ec2:DescribeInstanceStatus",
            "ec2:DescribeImages",
            "ec2:DescribeSnapshots",
            "ec2:DescribeVolumes",
            "ec2:DescribeKeyPairs",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeVpcs",
            "ec2:DescribeSubnets",
            "ec2:DescribeRegions",
            "ec2:DescribeTags"
        ],
        "Resource": [
            "*"
        ]
    },
    {
        "Sid": "ManageInstances",
        "Effect": "Allow",
        "Action": [
            "ec2:RunInstances",
            "ec2:TerminateInstances",
            "ec2:StopInstances"
        ],
        "Resource": [
            "arn:aws:ec2:us-east-1:*:instance/*",
            "arn:aws:ec2:us-east-1:*:volume/*",
            "arn:aws:ec2:us-east-1:*:network-interface/*",
            "arn:aws:ec2:us-east-1:*:security-group/*",
            "arn:aws:ec2:us-east-1:*:subnet/*",
            "arn:aws:ec2:us-east-1:*:key-pair/*",
            "arn:aws:ec2:us-east-1:*:image/*",
            "arn:aws:ec2:us-east-1:*:launch-template/*"
        ]
    },
    {
        "Sid": "ManageAMIs",
        "Effect": "Allow",
        "Action": [
            "ec2:CreateImage",
            "ec2:RegisterImage",
            "ec2:DeregisterImage",
            "ec2:EnableImageDeprecation",
            "ec2:ModifyImageAttribute"
        ],
        "Resource": [
            "arn:aws:ec2:us-east-1:*:image/*",
            "arn:aws:ec2:us-east-1:*:instance/*",
            "arn:aws:ec2:us-east-1:*:snapshot/*"
        ]
    },
    {
        "Sid": "ManageSnapshots",
        "Effect": "Allow",
        "Action": [
            "ec2:CreateSnapshot",
            "ec2:DeleteSnapshot"
        ],
        "Resource": [
            "arn:aws:ec2:us-east-1:*:snapshot/*"
        ]
    },
    {
        "Sid": "ManageVolumes",
        "Effect": "Allow",
        "Action": [
            "ec2:CreateVolume",
            "ec2:DeleteVolume"
        ],
        "Resource": [
            "arn:aws:ec2:us-east-1:*:volume/*"
        ]
    },
    {
        "Sid": "ManageKeyPairs",
        "Effect": "Allow",
        "Action": [
            "ec2:CreateKeyPair",
            "ec2:DeleteKeyPair"
        ],
        "Resource": [
            "arn:aws:ec2:us-east-1:*:key-pair/packer_*"
        ]
    },
    {
        "Sid": "ManageNetworkInterfaces",
        "Effect": "Allow",
        "Action": [
            "ec2:CreateNetworkInterface",
            "ec2:DeleteNetworkInterface"
        ],
        "Resource": [
            "arn:aws:ec2:us-east-1:*:network-interface/*"
        ]
    },
    {
        "Sid": "CreateTags",
        "Effect": "Allow",
        "Action": [
            "ec2:CreateTags"
        ],
        "Resource": [
            "arn:aws:ec2:us-east-1:*:instance/*",
            "arn:aws:ec2:us-east-1:*:volume/*",
            "arn:aws:ec2:us-east-1:*:network-interface/*",
            "arn:aws:ec2:us-east-1:*:image/*",
            "arn:aws:ec2:us-east-1:*:snapshot/*"
        ],
        "Condition": {
            "StringEquals": {
                "ec2:CreateAction": [
                    "RunInstances",
                    "CreateImage",
                    "CreateSnapshot",
                    "CreateVolume"
                ]
            }
        }
    },
    {
        "Sid": "UpdateSSMParameter",
        "Effect": "Allow",
        "Action": [
            "ssm:PutParameter",
            "ssm:GetParameter"
        ],
        "Resource": [
            "arn:aws:ssm:us-east-1:*:parameter/buildkite/cpu-build-ami/*",
            "arn:aws:ssm:us-east-1:*:parameter/buildkite/packer/*"
        ]
    },
    {
        "Sid": "DescribeCloudFormationStacks",
        "Effect": "Allow",
        "Action": [
            "cloudformation:DescribeStackResource"
        ],
        "Resource": [
            "arn:aws:cloudformation:us-east-1:*:stack/bk-a/*",
            "arn:aws:cloudformation:us-east-1:*:stack/bk-b/*"
        ]
    },
    {
        "Sid": "ManageLaunchTemplates",
        "Effect": "Allow",
        "Action": [
            "ec2:CreateLaunchTemplateVersion",
            "ec2:DescribeLaunchTemplates",
            "ec2:DescribeLaunchTemplateVersions"
        ],
        "Resource": [
            "*"
        ]
    },
    {
        "Sid": "ManageAutoScaling",
        "Effect": "Allow",
        "Action": [
            "autoscaling:DescribeAutoScalingGroups",
            "autoscaling:UpdateAutoScalingGroup"
        ],
        "Resource": [
            "*"
        ]
    },
    {
        "Sid": "PassRoleForASG",
        "Effect": "Allow",
        "Action": [
            "iam:PassRole"
        ],
        "Resource": [
            "arn:aws:iam::*:role/bk-a-*",
            "arn:aws:iam::*:role/bk-b-*"
        ]
    }
];

describe("IAM documents, written out", () => {
    const tables = { premerge: PREMERGE, "gpu-test": GPU_TEST, postmerge: POSTMERGE, release: POSTMERGE, "ami-build": [] as PolicyStatement[] } as const;
    for (const [profile, statements] of Object.entries(tables)) {
        it(`grant the ${profile} profile exactly its statements`, () => {
            assert.deepEqual(capabilitiesPolicy(ACCESS_PROFILES[profile as keyof typeof ACCESS_PROFILES], ctx), { Version: "2012-10-17", Statement: statements });
        });
    }

    it("grant compiler-cache reads and writes exactly these statements", () => {
        assert.deepEqual([...CAPABILITIES.readCompilerCache(ctx), ...CAPABILITIES.writeCompilerCache(ctx)], COMPILER_CACHE);
    });

    it("grant the AMI build exactly its statements", () => {
        const document = amiBuildPolicy({ region: "us-east-1", amiParameter: "/buildkite/cpu-build-ami/us-east-1", targetStacks: ["bk-a", "bk-b"] });
        assert.deepEqual(document, { Version: "2012-10-17", Statement: AMI_BUILD });
    });
});

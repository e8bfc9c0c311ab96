import { strict as assert } from "assert";
import { autoScalingGroupReplacingParameters } from "../../aws/template-replacements";
import * as fs from "fs";
import { parseCloudFormationYaml } from "../../aws/cloudformation-yaml";
import { keptRulesDocument } from "../../aws/templates/extract";
import {
    checkedStackVersions,
    keptTemplateRules,
    missingOutputs,
    parameterProblems,
    replacementEffect,
    ruleViolation,
    templateRulesFile,
    type StackTemplateRules,
} from "../../aws/stack-template";
import { STACK_OUTPUTS } from "../../aws/stack-parameters";
import { realTemplate, realTemplateRules, TEMPLATE_VERSIONS } from "./helpers";

describe("CloudFormation YAML", () => {
    it("reads short-form tags as their long JSON forms", () => {
        const template = parseCloudFormationYaml(
            [
                "A: !Ref Name",
                "B: !GetAtt Role.Arn",
                "C: !If [IsLinux, !Sub '${AWS::Region}-x', !Ref 'AWS::NoValue']",
                "D: !Join",
                "  - ','",
                "  - [a, b]",
                "E: !Transform { Name: AWS::Include, Parameters: { Location: s3://x } }",
                "F: { linuxamd64: !Ref ImageId }",
            ].join("\n"),
        );
        assert.deepEqual(template, {
            A: { Ref: "Name" },
            B: { "Fn::GetAtt": ["Role", "Arn"] },
            C: { "Fn::If": ["IsLinux", { "Fn::Sub": "${AWS::Region}-x" }, { Ref: "AWS::NoValue" }] },
            D: { "Fn::Join": [",", ["a", "b"]] },
            E: { "Fn::Transform": { Name: "AWS::Include", Parameters: { Location: "s3://x" } } },
            F: { linuxamd64: { Ref: "ImageId" } },
        });
    });

    it("refuses a tag CloudFormation does not have", () => {
        assert.throws(() => parseCloudFormationYaml("A: !Reff Name"), /Reff/);
    });

    for (const version of TEMPLATE_VERSIONS) {
        it(`parses the real v${version} template`, () => {
            const template = realTemplate(version);
            assert.equal(template.AWSTemplateFormatVersion, "2010-09-09");
            const outputs = template.Outputs as Record<string, { Value: unknown }>;
            assert.deepEqual(outputs.AutoScalingGroupName.Value, { Ref: "AgentAutoScaleGroup" });
        });
    }
});

describe("Elastic CI Stack template rules", () => {
    for (const version of TEMPLATE_VERSIONS) {
        it(`keeps v${version}'s rules exactly as the real template states them`, () => {
            const kept = fs.readFileSync(templateRulesFile(version), "utf8");
            assert.equal(kept, keptRulesDocument(realTemplateRules(version)), `re-run: npx tsx aws/templates/extract.ts ${version} <template>`);
        });

        it(`declares, in v${version}, every stack output the program reads`, () => {
            assert.deepEqual(missingOutputs(realTemplateRules(version), Object.values(STACK_OUTPUTS)), []);
        });
    }

    it("has been checked against exactly the versions the tests know", () => {
        assert.deepEqual(checkedStackVersions(), [...TEMPLATE_VERSIONS]);
        assert.equal(keptTemplateRules("6.30.0"), undefined);
    });

    it("names a missing output", () => {
        const rules: StackTemplateRules = { version: "0.0.1", parameters: {}, outputs: ["VpcId"], replacesAutoScalingGroup: {} };
        assert.deepEqual(missingOutputs(rules, ["VpcId", "InstanceRoleName"]), ["InstanceRoleName"]);
    });

    it("names the one parameter whose name differs between the checked versions", () => {
        const [older, newer] = TEMPLATE_VERSIONS.map((version) => Object.keys(realTemplateRules(version).parameters));
        // Only BuildkiteAgentScalerVersion goes away (6.71.1 picks the scaler from LambdaArchitecture);
        // the program never sets it, and a catalog that does fails on 6.71.1 (see stack-parameters tests).
        assert.deepEqual(older.filter((name) => !newer.includes(name)), ["BuildkiteAgentScalerVersion"]);
    });
});

describe("parameters that replace the autoscaling group", () => {
    for (const version of TEMPLATE_VERSIONS) {
        it(`are derived from the real v${version} template: InstanceTypes, the launch template's inputs and the subnets, not MaxSize or MinSize`, () => {
            const replacing = autoScalingGroupReplacingParameters(realTemplate(version));
            for (const name of ["InstanceTypes", "ImageId", "ImageIdParameter", "BootstrapScriptUrl", "ECRAccessPolicy", "RootVolumeSize", "Subnets", "SecurityGroupIds", "OnDemandPercentage", "BuildkiteQueue"]) {
                assert.ok(name in replacing, `${name} should replace the group in v${version}`);
            }
            assert.match(replacing.InstanceTypes, /^AgentAutoScaleGroup\.MixedInstancesPolicy/);
            assert.equal(replacing.Subnets, "AgentAutoScaleGroup.VPCZoneIdentifier");
            for (const name of ["MaxSize", "MinSize", "ScaleOutFactor", "InstanceCreationTimeout", "ManagedPolicyARNs"]) assert.ok(!(name in replacing), `${name} does not replace the group`);
        });

        it(`are kept for v${version} exactly as the real template gives them`, () => {
            assert.deepEqual(keptTemplateRules(version)!.replacesAutoScalingGroup, realTemplateRules(version).replacesAutoScalingGroup);
        });
    }

    it("follow references through conditions, Sub variables and resources, and skip the group's other properties", () => {
        const template = {
            Parameters: { Direct: {}, ViaCondition: {}, ViaSub: {}, ViaResource: {}, OnlySize: {}, Unused: {} },
            Conditions: { HasIt: { "Fn::Equals": [{ Ref: "ViaCondition" }, ""] } },
            Resources: {
                Group: { Type: "AWS::IAM::InstanceProfile", Properties: { InstanceProfileName: { Ref: "ViaResource" }, Roles: [{ Ref: "Unused" }] } },
                Template: {
                    Type: "AWS::EC2::LaunchTemplate",
                    Properties: {
                        LaunchTemplateData: {
                            InstanceType: { Ref: "Direct" },
                            UserData: { "Fn::Sub": ["x ${ViaSub} ${Local}", { Local: { "Fn::If": ["HasIt", "a", "b"] } }] },
                            IamInstanceProfile: { Arn: { "Fn::GetAtt": ["Group", "Arn"] } },
                        },
                    },
                },
                AgentAutoScaleGroup: {
                    Type: "AWS::AutoScaling::AutoScalingGroup",
                    Properties: { MaxSize: { Ref: "OnlySize" }, MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: { Ref: "Template" } } } } },
                },
            },
        };
        assert.deepEqual(Object.keys(autoScalingGroupReplacingParameters(template)), ["Direct", "ViaCondition", "ViaResource", "ViaSub"]);
    });

    it("name the queue and the cancelled jobs when a change replaces, and say nothing when it does not", () => {
        const rules = keptTemplateRules("6.21.0")!;
        assert.equal(
            replacementEffect(rules, "gpu_4_queue", ["MaxSize", "InstanceTypes"]),
            "replaces the autoscaling group of queue gpu_4_queue (InstanceTypes): running jobs are cancelled",
        );
        assert.equal(replacementEffect(rules, "gpu_4_queue", ["MaxSize", "MinSize"]), undefined);
    });
});

describe("parameter checks", () => {
    const rules = realTemplateRules("6.21.0");
    const problems = (parameters: Record<string, string | undefined>) => parameterProblems(rules, "q", parameters);

    it("accepts values the template accepts", () => {
        assert.deepEqual(problems({ EnableInstanceStorage: "true", MinSize: "0", OnDemandPercentage: "100", InstanceTypes: "g6.4xlarge", VpcId: undefined }), []);
    });

    const cases: [string, Record<string, string>, string][] = [
        ["an unknown name", { EnableInstanceStorag: "true" }, 'queue "q": Elastic CI Stack v6.21.0 parameter EnableInstanceStorag: the template has no such parameter (did you mean "EnableInstanceStorage"?)'],
        ["a value outside AllowedValues", { ECRAccessPolicy: "write" }, 'queue "q": Elastic CI Stack v6.21.0 parameter ECRAccessPolicy: "write" is not one of the allowed values "none", "readonly", "poweruser", "full"'],
        ["a value outside AllowedPattern", { InstanceTypes: "a,b,c,d,e" }, 'queue "q": Elastic CI Stack v6.21.0 parameter InstanceTypes: "a,b,c,d,e" does not match the allowed pattern ^[\\w-\\.]+(,[\\w-\\.]*){0,3}$'],
        ["a number below MinValue", { RootVolumeSize: "8" }, 'queue "q": Elastic CI Stack v6.21.0 parameter RootVolumeSize: "8" is below the minimum value 10'],
        ["a number above MaxValue", { OnDemandPercentage: "101" }, 'queue "q": Elastic CI Stack v6.21.0 parameter OnDemandPercentage: "101" is above the maximum value 100'],
        ["a Number that is not one", { MaxSize: "ten" }, 'queue "q": Elastic CI Stack v6.21.0 parameter MaxSize: "ten" is not a number'],
        ["a value shorter than MinLength", { BuildkiteQueue: "" }, 'queue "q": Elastic CI Stack v6.21.0 parameter BuildkiteQueue: "" is shorter than 1 characters'],
    ];
    for (const [what, parameters, expected] of cases) {
        it(`names queue, parameter and what is allowed for ${what}`, () => {
            assert.deepEqual(problems(parameters), [expected]);
        });
    }

    it("checks MaxLength too", () => {
        assert.match(ruleViolation({ Type: "String", MaxLength: 3 }, "abcd") ?? "", /longer than 3 characters/);
        assert.equal(ruleViolation({ Type: "String", MaxLength: 3 }, "abc"), undefined);
    });
});

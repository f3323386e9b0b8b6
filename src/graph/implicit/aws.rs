//! The AWS::EC2 (CFN-compatible) plugins: a VPC gateway attachment depends on the route
//! tables of its VPC. Its rule and the schemas it reads.

use super::rule::{guarded, PluginClass, Rule, Step};
use crate::properties::{resource, string, Failure, ResourceSchema};
use crate::python;

const VPC_GATEWAY_ATTACHMENT: &str = "AWS::EC2::VPCGatewayAttachment";
const ROUTE_TABLE: &str = "AWS::EC2::RouteTable";

pub const PLUGINS: &[PluginClass] = &[
    PluginClass {
        name: VPC_GATEWAY_ATTACHMENT,
        rule: Some(vpc_gateway_attachment),
        schema: vpc_gateway_attachment_schema,
    },
    PluginClass {
        name: ROUTE_TABLE,
        rule: None,
        schema: route_table_schema,
    },
];

/// AWS::EC2::VPCGatewayAttachment: every RouteTable of the same VPC (the attachment
/// sets the gateway on their routers).
fn vpc_gateway_attachment(r: &mut Rule) -> Step {
    for res in r.others() {
        if !r.has(&res, ROUTE_TABLE) {
            continue;
        }
        let pair = (|| -> Result<_, Failure> {
            Ok((r.own().item("VpcId")?, r.props(&res).get("VpcId")?))
        })();
        if let Some((vpc, table_vpc)) = guarded(pair, &res)? {
            if python::eq(&table_vpc, &vpc) {
                r.add(&res);
            }
        }
    }
    Ok(())
}

fn vpc_gateway_attachment_schema() -> ResourceSchema {
    resource(
        VPC_GATEWAY_ATTACHMENT,
        "InternetGatewayId VpcId VpnGatewayId",
        vec![("VpcId", string().required())],
        vec![],
    )
}

fn route_table_schema() -> ResourceSchema {
    resource(
        ROUTE_TABLE,
        "Tags VpcId",
        vec![("VpcId", string().required())],
        vec![],
    )
}

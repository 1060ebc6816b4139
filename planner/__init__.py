"""restore-planner: a Terraform-style declarative restore planner for Huawei Cloud CBR."""

__version__ = "0.1.0"
